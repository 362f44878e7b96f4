"""Okta's registration inline hook format both ways: the request read, the answer checked."""
