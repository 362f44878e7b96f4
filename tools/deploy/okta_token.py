"""An access token for Okta's management API from an OAuth 2.0 service app (client credentials,
`private_key_jwt`): the client assertion signed here with PyJWT, its private key read from a file
and never shown. Okta's guide: "Implement OAuth for Okta with a service app"."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tools.deploy.output import Refused

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Okta takes an assertion that expires within the hour; this one is used at once.
ASSERTION_SECONDS = 300
# The scopes deploy needs: the inline hook, and with --okta-policy the user profile policy.
HOOK_SCOPES = ("okta.inlineHooks.manage",)
POLICY_SCOPES = ("okta.policies.manage",)
# Okta answers these when the service app requires DPoP (a proof of possession with each call).
DPOP_ERRORS = ("invalid_dpop_proof", "use_dpop_nonce")
DPOP_REFUSED = (
    "the service app {client_id} requires DPoP, which deploy.sh does not send: in the Admin "
    "Console, open the app (Applications > Applications), General > Client Credentials > Edit, "
    'and clear "Require Demonstrating Proof of Possession (DPoP) header in token requests"; or '
    "use an API token (OKTA_API_TOKEN)"
)


@dataclass(frozen=True)
class SigningKey:
    """The service app's private key, as PyJWT signs with it; never in a repr."""

    key: Any = field(repr=False)
    algorithm: str
    kid: str


def load_signing_key(text: str, kid: str) -> SigningKey:
    """A PEM private key or a private JWK (as the Admin Console's "Generate new key" gives it);
    RSA (RS256) or EC P-256 (ES256). The messages never quote the file."""
    # PyJWT and cryptography come with the hook's requirements; imported only for this mode.
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    option = "--okta-api-private-key-file"
    key: Any
    if text.lstrip().startswith("{"):
        try:
            jwk = json.loads(text)
            kid = kid or str(jwk.get("kid") or "")
            kind = jwk.get("kty")
            if kind == "RSA":
                key = RSAAlgorithm.from_jwk(jwk)
            elif kind == "EC":
                key = ECAlgorithm.from_jwk(jwk)
            else:
                raise ValueError
        except (ValueError, TypeError, AttributeError, KeyError):
            raise Refused(f"{option}: not a private RSA or EC key as a JWK") from None
    else:
        try:
            key = load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError):
            raise Refused(f"{option}: not an unencrypted PEM private key, nor a JWK") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise Refused(f"{option}: an RSA key of {key.key_size} bits (Okta needs 2048 or more)")
        return SigningKey(key, "RS256", kid)
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return SigningKey(key, "ES256", kid)
    raise Refused(f"{option}: a public key, or a kind Okta does not take (RSA, or EC P-256)")


def token_url(org_url: str) -> str:
    """The org authorization server's token endpoint: the one that mints tokens for Okta's APIs."""
    return f"{org_url}/oauth2/v1/token"


def client_assertion(client_id: str, audience: str, key: SigningKey, now: float) -> str:
    import jwt

    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": int(now),
        "exp": int(now) + ASSERTION_SECONDS,
        "jti": secrets.token_urlsafe(24),
    }
    headers = {"kid": key.kid} if key.kid else None
    return jwt.encode(claims, key.key, algorithm=key.algorithm, headers=headers)


def token_request(
    client_id: str,
    audience: str,
    key: SigningKey,
    scopes: tuple[str, ...],
    now: float | None = None,
) -> bytes:
    """The form body of the client credentials request: never printed (it holds the assertion)."""
    assertion = client_assertion(client_id, audience, key, time.time() if now is None else now)
    return urlencode(
        {
            "grant_type": "client_credentials",
            "scope": " ".join(scopes),
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }
    ).encode()


def describe_request(client_id: str, audience: str, scopes: tuple[str, ...]) -> list[str]:
    """The token request's form, its assertion described rather than shown."""
    return [
        "form (read by curl from file descriptor 3): grant_type=client_credentials",
        f"  scope={' '.join(scopes)}",
        f"  client_assertion_type={ASSERTION_TYPE}",
        "  client_assertion=<a JWT signed with the key of --okta-api-private-key-file:",
        f"    iss=sub={client_id}, aud={audience}, exp in {ASSERTION_SECONDS} s, a fresh jti>",
        "then every call sends Authorization: Bearer <the access token> (in a config on stdin)",
    ]


def access_token(status: str, document: Any, client_id: str) -> str:
    """The token from Okta's answer; raises `Refused` saying why there is none."""
    if status == "200" and isinstance(document, dict):
        token = document.get("access_token")
        if isinstance(token, str) and token and document.get("token_type", "Bearer") == "Bearer":
            return token
    error = document.get("error") if isinstance(document, dict) else None
    if error in DPOP_ERRORS:
        raise Refused(DPOP_REFUSED.format(client_id=client_id))
    description = document.get("error_description") if isinstance(document, dict) else None
    detail = ": ".join(str(part) for part in (error, description) if part) or "no error details"
    raise Refused(f"Okta answered HTTP {status} to the token request of {client_id}: {detail}")
