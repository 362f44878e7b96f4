"""The reason codes the handlers emit by themselves, each with its built-in (English) message."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

DENIED = "DENIED"
MISSING_ATTRIBUTE = "MISSING_ATTRIBUTE"
INVALID_ATTRIBUTE_TYPE = "INVALID_ATTRIBUTE_TYPE"
INVALID_ATTRIBUTE = "INVALID_ATTRIBUTE"
INVALID_EMAIL = "INVALID_EMAIL"
INVALID_EMAIL_DOMAIN = "INVALID_EMAIL_DOMAIN"
ATTRIBUTE_NOT_UPDATABLE = "ATTRIBUTE_NOT_UPDATABLE"
DISPOSABLE_EMAIL_DOMAIN = "DISPOSABLE_EMAIL_DOMAIN"
NETWORK_NOT_ALLOWED = "NETWORK_NOT_ALLOWED"
TOO_MANY_ERRORS = "TOO_MANY_ERRORS"
DIRECTORY_MISMATCH = "DIRECTORY_MISMATCH"
DIRECTORY_NOT_FOUND = "DIRECTORY_NOT_FOUND"
DIRECTORY_UNAVAILABLE = "DIRECTORY_UNAVAILABLE"

# The one table of built-in codes: a handler emits these or a policy rule's own `reason`.
BUILTIN_MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        DENIED: "We couldn't complete your request. Please review the highlighted fields.",
        MISSING_ATTRIBUTE: "This field is required.",
        INVALID_ATTRIBUTE_TYPE: "This field has a value of the wrong kind.",
        INVALID_ATTRIBUTE: "This field has an invalid value.",
        INVALID_EMAIL: "Enter a valid email address.",
        INVALID_EMAIL_DOMAIN: "This email domain is not allowed to register.",
        ATTRIBUTE_NOT_UPDATABLE: "This field cannot be updated here.",
        DISPOSABLE_EMAIL_DOMAIN: "Addresses of disposable email services cannot be used here.",
        NETWORK_NOT_ALLOWED: "This request cannot be accepted from your network.",
        TOO_MANY_ERRORS: "More fields than can be listed were refused.",
        DIRECTORY_MISMATCH: "These details do not match our records.",
        DIRECTORY_NOT_FOUND: "We could not find these details in our records.",
        DIRECTORY_UNAVAILABLE: (
            "We cannot check these details right now. Please try again in a few minutes."
        ),
    }
)
BUILTIN_REASONS = frozenset(BUILTIN_MESSAGES)
# Emitted only under a policy with the rule that gives them ([network], [disposable_domains],
# [directory.NAME]).
RULE_REASONS = frozenset(
    {
        DISPOSABLE_EMAIL_DOMAIN,
        NETWORK_NOT_ALLOWED,
        DIRECTORY_MISMATCH,
        DIRECTORY_NOT_FOUND,
        DIRECTORY_UNAVAILABLE,
    }
)
BUILTIN_LOCALE = "en"
