"""Decisions per request type: registration and progressive profile."""
