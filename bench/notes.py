"""What RESULTS.md says beside the numbers: how each figure is made, and what bounds a miss."""

from __future__ import annotations

from bench.stats import Row

METHOD = """## How each figure is made

1. Floor: `RSAPublicKey.verify(signature, signing_input, PKCS1v15(), SHA256())` on a real
   RS256 access token, its signature and signing input decoded beforehand: the one piece of
   work no verifier can skip.
2. Bearer: `BearerVerifier.verify` as the hook builds it (keys fetched from the loopback
   authorization server, issuer, audience, scope and client id required, leeway 30 s). First
   seen: a different pre-minted token each call (distinct `jti`). Seen before: the same token
   again, answered by the token cache. PyJWT: `jwt.decode` with the public key object already
   built, the same issuer, audience, leeway and required claims. okta-jwt-verifier 0.5.0:
   `AccessTokenVerifier.verify_sync`; it only accepts an `https://` issuer, so the tokens name
   `https://okta.bench.invalid/oauth2/default` and its request executor hook is subclassed to
   fetch that issuer's `/v1/keys` from the loopback server instead; it then keeps the JWKS in
   its own cache, as in production. It checks less than the hook (no scope or client id) and
   parses the JWK and the token again on every call. Both peers get distinct tokens; neither
   caches verified tokens.
3. Whole request: `main.registration_hook(flask.Request)` with the request object built
   beforehand (its own body stream each), so routing and request parsing by the framework are
   left out; the audit log line is written to stdout, sent to /dev/null. Basic, and Bearer with
   the token Okta reuses (seen before) and with a new token each call. "client:" rows go through
   functions-framework's Flask test client (routing, request and response objects included).
4. Cold start: `python -m functions_framework` (gunicorn, WORKERS=1 THREADS=8) spawned, its port
   polled every 2 ms, the first POST sent as soon as it accepts; from spawn to the end of the
   first 200. With Secret Manager: `OKTA_HOOK_BASIC_CREDENTIALS_SECRET` read through the real
   google-cloud-secret-manager client from a loopback server speaking its REST API, and Bearer
   with the keys found by discovery from a loopback authorization server; the first request is a
   Bearer one. `import main` is timed in a fresh interpreter (`python -c`); it includes the
   cold-start work `main` does at import (settings, policy, verifiers, secret reads, key fetch).
5. HTTP: wrk 1 thread, 8 connections (deploy.sh's default concurrency), a POST of the
   registration body; the hook and the trivial function (`bench/trivial/main.py`, constant JSON)
   served alike, loaded in turn within each round. Two more trivial functions, one that also
   reads and parses the body and one that also writes one log line of an audit line's size,
   tell apart what any real hook pays from what this one adds. Every answer must be 2xx or the
   run fails. The layouts: WORKERS=1 THREADS=8 (deploy.sh with --cpu 1) and one worker per CPU
   with THREADS=8/CPUs, as deploy.sh sets them for that many CPUs.
"""

LIMITS = {
    "first-seen token": (
        "The RSA check is the floor; the rest is base64 and JSON decoding of the token, the "
        "claim checks and the cache's bookkeeping. Tried: PyJWT's `jwt.decode` (about 3.5x: its "
        "per-character alphabet loop costs more than the RSA check) before replacing it."
    ),
    "seen-before": (
        "Beyond the token (about 0.15x the floor when seen before), the request reads the body, "
        "parses it with the duplicate-key check, applies the policy, checks the response against "
        "Okta's contract, builds the Flask response and writes the audit line; none of these is "
        "above about 1x the floor. Tried and kept: prebuilt JSON encoder and decoder, the audit "
        "record made without a stack walk, no locale work on an ALLOW, domain lists indexed "
        "once, strings compared without JSON serialisation."
    ),
    "hook, ": (
        "The trivial function neither reads the body nor writes a log line; the hook must do "
        "both. The reference rows measure those two in the same run: the body read and parsed "
        "through gunicorn's and werkzeug's Python readers, and one JSON line written and "
        "flushed to stdout (a write that releases the GIL while eight threads are busy). What "
        "is left between the reference that does both and the hook (the note column) is the "
        "hook's own work of section 3, about 5x the floor a request, against a framework whose "
        "own cost per request over HTTP is roughly 13-20x the floor (1/throughput of the trivial "
        "row): 0.8x of the bare trivial function would leave the body, the log line and all of "
        "the hook's work a quarter of the framework's own cost. With wrk on the same two cores "
        "and other work on the machine, these ratios move by about 0.1-0.2 between runs."
    ),
    "spawn to first 200": (
        "Bounded by the interpreter and functions-framework's own start (the trivial row) and, "
        "with Secret Manager, by the client library's import."
    ),
}


def limits_of(row: Row) -> str:
    for key, text in LIMITS.items():
        if key in row.case:
            return text
    return "No note for this case."
