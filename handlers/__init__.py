"""Decisions: the typed request, the policy, and one handler per request type."""
