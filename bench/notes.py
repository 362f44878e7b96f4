"""What RESULTS.md says beside the numbers: how each figure is made, and what bounds a miss, with
the figures of the same run."""

from __future__ import annotations

from collections.abc import Callable

from bench.stats import Row

METHOD = """## How each figure is made

1. Floor: `RSAPublicKey.verify(signature, signing_input, PKCS1v15(), SHA256())` on a real
   RS256 access token, its signature and signing input decoded beforehand: the one piece of
   work no verifier can skip.
2. Bearer: `BearerVerifier.verify` as the hook builds it (keys fetched from the loopback
   authorization server, issuer, audience, scope and client id required, leeway 30 s): a strict
   reading of the token's form, then PyJWT's `jwt.decode`, then the scope and client checks.
   First seen: a different pre-minted token each call (distinct `jti`). Seen before: the same
   token again, answered by the token cache. PyJWT: `jwt.decode` alone with the public key
   object already built, the same issuer, audience, leeway and required claims.
   okta-jwt-verifier 0.5.0: `AccessTokenVerifier.verify_sync`; it only accepts an `https://`
   issuer, so the tokens name `https://okta.bench.invalid/oauth2/default` and its request
   executor hook is subclassed to fetch that issuer's `/v1/keys` from the loopback server
   instead; it then keeps the JWKS in its own cache, as in production. It checks less than the
   hook (no scope or client id) and parses the JWK and the token again on every call. Both
   peers get distinct tokens; neither caches verified tokens.
3. Whole request: `await main.registration_hook(request)` on one event loop, with a Starlette
   `Request` made beforehand from an ASGI scope (its own `receive` handing over the whole body),
   so uvicorn, routing and middleware are left out; the audit line goes through the writer
   thread to stdout (/dev/null), and each batch waits until its lines are written. Basic, and
   Bearer with the token Okta reuses (seen before) and with a new token each call. "client:"
   rows go through Starlette's TestClient over the app functions-framework builds (its own
   event loop in a thread, routing, middleware, request and response objects included).
   Audit line: `Audit.write` of an allowed registration, each call timed alone, with the
   handler `core.logs.configure()` installs (writer thread) and with `background=False`
   (written at once), stdout a pipe drained by `cat`; then with `cat` stopped (SIGSTOP), the
   pipe full and the writer thread blocked in its write.
4. Cold start: `python -m functions_framework` spawned (gunicorn; a uvicorn worker for the
   hook and the trivial ASGI function, WORKERS=1 THREADS=8 for the trivial WSGI one), its port
   polled every 2 ms, the first POST sent as soon as it accepts; from spawn to the end of the
   first 200. With Secret Manager: `OKTA_HOOK_BASIC_CREDENTIALS_SECRET` read through the real
   google-cloud-secret-manager client from a loopback server speaking its REST API, and Bearer
   with the keys found by discovery from a loopback authorization server; the first request is a
   Bearer one. `import` figures are timed in a fresh interpreter (`python -c`); `import main`
   includes the cold-start work `main` does at import (settings, policy, verifiers, secret
   reads, key fetch).
5. HTTP: wrk 1 thread, 8 connections (deploy.sh's default concurrency), a POST of the
   registration body; every server started first, each case loaded in turn within each round.
   The trivial functions answer constant JSON: on the WSGI path (`bench/trivial/main.py`,
   gunicorn threads, THREADS=8 with one worker, 4 with two) and on the ASGI path
   (`bench/trivial/aio_main.py`, `@functions_framework.aio.http`, a uvicorn worker as the
   hook's). Two more of each also read and parse the body, and write one log line of an audit
   line's size, to tell what any real hook pays from what this one adds. Every answer must be
   2xx or the run fails. Peak RSS per worker: VmHWM of each gunicorn worker after the rounds
   (the master, which imported the function before forking, is not counted). Last, the hook
   with one worker per CPU (Basic) is loaded with 8, 32 and 80 connections, in rounds of their
   own, for the choice of Cloud Run's `--concurrency`; with two workers, each worker's CPU time
   is read from /proc before and after each run, and the busiest worker's share of it shown.
   uvicorn parses HTTP with h11 and runs on the uvloop event loop that requirements.txt ships
   (not httptools, whose parser bounds no header block); "without uvloop": the trivial ASGI
   function and the hook served by the same uvicorn with uvloop hidden (bench/pure_python on
   those servers' PYTHONPATH), on asyncio's loop.
"""


def _find(rows: list[Row], *parts: str, section: str = "") -> Row | None:
    for row in rows:
        if row.section.startswith(section) and all(part in row.case for part in parts):
            return row
    return None


def _per_request_us(row: Row | None) -> float | None:
    """With one worker kept busy, the time each request takes of it."""
    return 1e6 / row.absolute.median if row is not None else None


def _first_seen(row: Row, rows: list[Row]) -> str:
    pyjwt = _find(rows, "PyJWT jwt.decode")
    text = (
        "The token's signature and registered claims are PyJWT's `jwt.decode`, which alone costs "
        "about 3.5x the floor: its per-character base64url check costs more than the RSA "
        "check. The hook adds its strict reading of the token (the header and the claims "
        "decoded once more, the JSON read strictly), the key lookup, the scope and client checks "
        "and the cache's bookkeeping"
    )
    if pyjwt is not None and pyjwt.ratio is not None and row.ratio is not None:
        text += (
            f": here PyJWT {pyjwt.ratio.median:.2f}x and the hook "
            f"{row.ratio.median - pyjwt.ratio.median:.2f}x more ("
            f"{row.absolute.median - pyjwt.absolute.median:.0f} µs), where 4x leaves it "
            f"{4 - pyjwt.ratio.median:.2f}x"
        )
    return text + "."


def _seen_before(row: Row, rows: list[Row]) -> str:
    token = _find(rows, "hook: seen-before token")
    audit = _find(rows, "audit line, writer thread (as served)")
    parts = []
    if token and token.ratio:
        parts.append(f"the token {token.ratio.median:.2f}x the floor (section 2)")
    if audit and audit.ratio:
        parts.append(f"the audit line {audit.ratio.median:.2f}x on the loop")
    known = f" ({'; '.join(parts)})" if parts else ""
    return (
        f"Beyond the token and the audit line{known}, the request reads the body as a stream "
        "under the request's deadline (an asyncio timeout), reads the JSON strictly, applies "
        "the policy, checks the answer against Okta's contract and builds the Starlette "
        "response; none of these is above about 1x the floor." + _spread(row)
    )


def _spread(row: Row) -> str:
    """For a ratio that must stay under its target: how far the rounds of this run spread."""
    if row.ratio is None:
        return ""
    return (
        f" Over the rounds of this run the ratio went from {row.ratio.p10:.2f}x (p10) to "
        f"{row.ratio.p90:.2f}x (p90): the load of a shared machine moves it by more than the "
        "target's margin."
    )


def _cold_start(row: Row, rows: list[Row]) -> str:
    trivial = _find(rows, "trivial ASGI function: spawn")
    env = _find(rows, "import main (Basic")
    stored = _find(rows, "import main (SM")
    text = "Bounded by the interpreter and functions-framework's own start"
    if trivial:
        text += f" (the trivial ASGI function: {trivial.absolute.median:.0f} ms)"
    if env and stored:
        extra = stored.absolute.median - env.absolute.median
        text += (
            " and, with Secret Manager, by the client library's import and the reads: `import "
            f"main` takes {stored.absolute.median:.0f} ms with Secret Manager and discovery "
            f"against {env.absolute.median:.0f} ms with the secret in the environment, "
            f"{extra:.0f} ms more, most of it google-cloud-secret-manager and its gRPC and "
            "protobuf imports"
        )
    return text + "."


def _one_worker(row: Row, rows: list[Row]) -> str:
    """The hook against a trivial function with one worker: the time of a request, split."""
    hook = _per_request_us(row)
    wsgi = _per_request_us(_find(rows, "WORKERS=1, 8 in flight: trivial WSGI function"))
    asgi = _per_request_us(_find(rows, "WORKERS=1, 8 in flight: trivial ASGI function"))
    alike = _per_request_us(_find(rows, "WORKERS=1", "trivial ASGI + reads the body + one log"))
    own = _find(rows, "registration, Basic", section="3 ")
    if hook is None or wsgi is None or asgi is None or alike is None:
        return "No note: a reference row is missing."
    text = (
        "One worker is one event loop kept busy by 8 requests in flight, so 1/throughput is "
        f"the time each request takes of it: the hook {hook:.0f} µs, the trivial ASGI function "
        f"{asgi:.0f} µs (uvicorn, Starlette, functions-framework's middleware), "
        f"{alike - asgi:.0f} µs more to read the body and write a log line through them, "
        f"leaving {hook - alike:.0f} µs of the hook's own work"
    )
    if own is not None:
        text += f" (section 3 measures {own.absolute.median:.0f} µs for it in process)"
    text += (
        f". 1.5x the trivial WSGI function ({wsgi:.0f} µs) would be {wsgi / 1.5:.0f} µs a "
        f"request; 0.6x the trivial ASGI function would be {asgi / 0.6:.0f} µs, which leaves "
        f"{asgi / 0.6 - asgi:.0f} µs for the body, the log line and all of the hook's work. "
        "A faster server shrinks that budget: see the rows without uvloop. With wrk "
        "and other work on the same two cores, these ratios move by about 0.1-0.2 between runs."
    )
    trivial = _find(rows, "WORKERS=1, 8 in flight: trivial ASGI function")
    if "p50_ms" in row.extra and trivial is not None and "p99_ms" in trivial.extra:
        text += (
            f" The latency: 8 requests in flight on one loop wait for each other, so p50 "
            f"({row.extra['p50_ms']:.2f} ms) is about 8 times a request's "
            f"{hook / 1000:.2f} ms; a p99 of 6 ms leaves {6 - 8 * hook / 1000:.2f} ms above 8 of "
            "them for every pause the machine adds (the trivial ASGI function's own p99 in this "
            f"run: {trivial.extra['p99_ms']:.2f} ms, with p50 {trivial.extra['p50_ms']:.2f} ms)."
        )
    return text


def _per_cpu(row: Row, rows: list[Row]) -> str:
    name = "Bearer" if "Bearer" in row.case else "Basic"
    one = _find(rows, "WORKERS=1, 8 in flight: hook, " + name)
    wsgi = _find(rows, "WORKERS=1, 8 in flight: trivial WSGI function")
    asgi_one = _find(rows, "WORKERS=1, 8 in flight: trivial ASGI function")
    asgi_two = _find(rows, "8 in flight: trivial ASGI function", "WORKERS=2")
    if one is None or wsgi is None or asgi_one is None or asgi_two is None:
        return "No note: a reference row is missing."
    scale = row.absolute.median / one.absolute.median
    asgi_scale = asgi_two.absolute.median / asgi_one.absolute.median
    return (
        "Two workers share the two cores with wrk (which sends and reads every one of these "
        "requests) and with anything else the machine runs: the hook "
        f"goes from {one.absolute.median:.0f} to {row.absolute.median:.0f} req/s ({scale:.2f}x), "
        f"the trivial ASGI function from {asgi_one.absolute.median:.0f} to "
        f"{asgi_two.absolute.median:.0f} ({asgi_scale:.2f}x). And the two workers are not "
        "always both at work: a uvicorn worker that wakes accepts every connection waiting, and "
        "wrk opens its 8 at once, so in some runs one worker takes them all and the other idles "
        "(the note gives the busiest worker's share of the CPU time). 2.8x the trivial WSGI "
        f"function with one worker is {2.8 * wsgi.absolute.median:.0f} req/s: "
        f"{2.8 / 2 * wsgi.absolute.median / one.absolute.median:.2f}x the hook's one-worker "
        "figure from each worker, on the cores wrk leaves."
    )


LIMITS: dict[str, Callable[[Row, list[Row]], str]] = {
    "first-seen token": _first_seen,
    "Bearer seen-before": _seen_before,
    "authenticated 200": _cold_start,
    "WORKERS=1, 8 in flight: hook": _one_worker,
    "in flight: hook": _per_cpu,
}


def limits_of(row: Row, rows: list[Row]) -> str:
    for key, explain in LIMITS.items():
        if key in row.case:
            return explain(row, rows)
    return "No note for this case."


def concurrency(rows: list[Row]) -> list[str]:
    """The hook with one worker per CPU at each number of requests in flight, and the smallest
    number that gets within 10% of the best throughput measured: past it, more requests in
    flight only wait longer in the instance. Throughput over all runs, since a served instance
    meets the same sharing of connections between its workers as wrk's; the runs in which both
    workers were at work are shown beside it."""
    swept = [row for row in rows if "(--concurrency)" in row.case]
    if not swept:
        return []
    best = max(row.absolute.median for row in swept)
    chosen = next(row for row in swept if row.absolute.median >= 0.9 * best)
    lines = [
        "## Concurrency",
        "",
        "| requests in flight | req/s, all runs | req/s, both workers at work | ratio to 8 "
        "in flight | p50, p99 and the workers' shares |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in swept:
        ratio = f"{row.ratio.median:.2f}x" if row.ratio else ""
        shared = row.extra.get("shared")
        both = f"{shared:.0f}" if shared is not None else "none"
        lines.append(
            f"| {row.extra['in_flight']} | {row.absolute.median:.0f} | {both} | {ratio} | "
            f"{row.note} |"
        )
    lines += [
        "",
        f"Smallest number in flight within 10% of the best throughput ({best:.0f} req/s): "
        f"**{chosen.extra['in_flight']}**. Throughput stops growing once both workers are kept "
        "busy; past that, a request more in flight only waits in the instance (p50 grows with "
        "the number in flight). But a uvicorn worker that wakes accepts every connection "
        "waiting, so connections opened together may all go to one worker, which then serves "
        "alone whatever the number in flight: the more connections, the likelier both workers "
        "get some. The README says which `--concurrency` deploy should set and why.",
        "",
    ]
    return lines
