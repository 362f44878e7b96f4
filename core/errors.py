"""The one hierarchy of transport and auth failures; each maps to one HTTP status."""

from __future__ import annotations


class HookError(Exception):
    """A request that cannot be decided: answered with `status` and a fixed JSON body."""

    status = 400
    code = "bad_request"
    public_message = "The request could not be processed."

    def __init__(self, reason: str, *, public_message: str | None = None) -> None:
        # `reason` is for the log only; the caller sees `public_message`.
        super().__init__(reason)
        self.reason = reason
        if public_message is not None:
            self.public_message = public_message

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(HookError):
    """The body is not a well-formed Okta registration hook request."""


class MethodNotAllowed(HookError):
    """Anything but POST."""

    status = 405
    code = "method_not_allowed"
    public_message = "Only POST is accepted."

    def headers(self) -> dict[str, str]:
        return {"Allow": "POST"}


class RequestTimeout(HookError):
    """The body did not arrive by the request's deadline."""

    status = 408
    code = "request_timeout"
    public_message = "The request body did not arrive in time."


class PayloadTooLarge(HookError):
    """The body is over the configured limit."""

    status = 413
    code = "payload_too_large"
    public_message = "The request body is too large."


class UnsupportedMediaType(HookError):
    """The body is not declared as JSON."""

    status = 415
    code = "unsupported_media_type"
    public_message = "The request body must be application/json."


class Unauthenticated(HookError):
    """The caller did not prove who it is."""

    status = 401
    code = "unauthenticated"
    public_message = "Authentication is required."

    def __init__(self, reason: str, *, challenges: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.challenges = challenges

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": ", ".join(self.challenges)} if self.challenges else {}


class Forbidden(Unauthenticated):
    """The caller is known but lacks what this hook requires."""

    status = 403
    code = "forbidden"
    public_message = "The caller is not allowed to call this hook."


class Unavailable(HookError):
    """The hook cannot decide now (configuration broken, keys or secrets not yet read)."""

    status = 503
    code = "unavailable"
    public_message = "The hook is not available."


class ContractViolation(HookError):
    """The hook's own answer breaks Okta's response contract: never sent, logged as a 500."""

    status = 500
    code = "internal"
    public_message = "The hook failed unexpectedly."
