"""Benchmarks that print numbers; never run by the tests."""
