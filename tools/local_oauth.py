"""OAuth 2.0 on this machine: a signing key made on first use, kept in .local/ (ignored by git
and never uploaded). `make run AUTH=oauth` pins its public half as the hook's key set
(OKTA_HOOK_JWKS); `make preview AUTH=oauth` signs a token with it, shaped like the access token
an Okta authorization server gives a hook: the Bearer path, with no Okta and no network."""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from service.settings import PROJECT_ROOT

KEY_DIR = PROJECT_ROOT / ".local" / "oauth"
# What the local hook expects and the local token carries (Okta's names for them). The issuer
# is a name only: with a pinned key set nothing is fetched from it (.invalid never resolves).
ISSUER = "https://okta-hook.local.invalid/oauth2/default"
AUDIENCE = "api://default"
SCOPE = "hooks.registration"
CLIENT_ID = "0oalocalpreview"
TOKEN_SECONDS = 300


def key_dir() -> Path:
    """.local/oauth, or OKTA_HOOK_LOCAL_KEY_DIR (the tests' own)."""
    return Path(os.environ.get("OKTA_HOOK_LOCAL_KEY_DIR") or KEY_DIR)


def private_key() -> Any:
    """The local RSA key, made (2048 bits, readable by its owner only) the first time."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = key_dir() / "private-key.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        partial = path.with_suffix(".tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        os.replace(partial, path)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_jwks() -> dict[str, Any]:
    from jwt.algorithms import RSAAlgorithm

    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(private_key().public_key(), as_dict=True)
    return {"keys": [{**jwk, "kid": _kid(jwk), "alg": "RS256", "use": "sig"}]}


def hook_settings() -> dict[str, str]:
    """The hook's OAuth 2.0 settings for a local run: the local key set, pinned."""
    return {
        "OKTA_HOOK_ISSUER": ISSUER,
        "OKTA_HOOK_AUDIENCE": AUDIENCE,
        "OKTA_HOOK_SCOPES": SCOPE,
        "OKTA_HOOK_CLIENT_IDS": CLIENT_ID,
        "OKTA_HOOK_JWKS": json.dumps(public_jwks()),
    }


def token(now: float | None = None) -> str:
    """An access token as Okta's authorization server mints one for the hook's client
    credentials grant, signed with the local key."""
    import jwt

    issued = int(time.time() if now is None else now)
    claims = {
        "ver": 1,
        "jti": "AT." + secrets.token_urlsafe(24),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": issued + TOKEN_SECONDS,
        "cid": CLIENT_ID,
        "scp": [SCOPE],
        "sub": CLIENT_ID,
    }
    kid = public_jwks()["keys"][0]["kid"]
    return jwt.encode(claims, private_key(), algorithm="RS256", headers={"kid": kid})


def _kid(jwk: dict[str, Any]) -> str:
    """The RFC 7638 thumbprint, so a new key has a new kid."""
    import base64
    import hashlib

    members = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    digest = hashlib.sha256(members.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
