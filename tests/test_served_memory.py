"""The served process under large and slow bodies: nothing is buffered before the caller is known,
no worker holds more than the body cap, and a body that never comes is not waited for past the
request's deadline. Measured on the real functions-framework worker, by its peak RSS."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from tests.conftest import BASIC_PASSWORD, BASIC_USER, basic
from tests.server_support import RawAnswer, Served, raw_exchange, raw_post, serve

MIB = 1024 * 1024
LARGE = 30 * MIB  # Cloud Run accepts HTTP/1 bodies up to 32 MiB
AT_ONCE = 6
DEADLINE_MS = 600
# Six requests at once may each hold the 64 KiB cap and the server's own buffers; a worker that
# buffered their bodies would grow by 180 MiB.
ALLOWED_GROWTH_KIB = 12 * 1024


def _linux() -> bool:
    return Path("/proc/self/status").exists()


pytestmark = pytest.mark.skipif(not _linux(), reason="reads /proc")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    env = {
        "OKTA_HOOK_BASIC_CREDENTIALS": f"{BASIC_USER}:{BASIC_PASSWORD}",
        "OKTA_HOOK_DEADLINE_MS": str(DEADLINE_MS),
    }
    with serve(env, tmp_path_factory.mktemp("memory")) as server:
        # The first answers of each kind import and allocate what every later one reuses: made
        # before any peak is measured, so that a growth is the bodies', not the warm-up's.
        sample = (Path(__file__).parent / "samples" / "okta_ssr_request.json").read_bytes()
        raw_post(server.url, head(basic(), len(sample)), [sample])
        raw_post(server.url, head(None, 64 * 1024), stream(64 * 1024, framed=False))
        raw_post(server.url, head(basic(), None), stream(256 * 1024, framed=True))
        yield server


def worker(served: Served) -> int:
    """The pid of the gunicorn worker that answers (one worker: WORKERS is unset)."""
    master = served.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def peak_growth_kib(pid: int, load: Callable[[], None]) -> int:
    """How far the worker's peak RSS rose above its RSS while `load` ran."""
    clear = Path(f"/proc/{pid}/clear_refs")
    try:
        clear.write_text("5")  # reset the peak (VmHWM) to the current RSS
    except OSError:
        pass  # the peak then also holds the start-up's: the growth can only read smaller
    before = status_kib(pid, "VmRSS")
    load()
    return status_kib(pid, "VmHWM") - before


def at_once(send: Callable[[], RawAnswer]) -> list[RawAnswer]:
    answers: list[RawAnswer] = []
    threads = [threading.Thread(target=lambda: answers.append(send())) for _ in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == AT_ONCE
    return answers


def stream(size: int, framed: bool) -> Iterable[bytes]:
    piece = b"x" * (64 * 1024)
    for _ in range(size // len(piece)):
        yield (b"10000\r\n" + piece + b"\r\n") if framed else piece
    if framed:
        yield b"0\r\n\r\n"


def head(authorization: str | None, length: int | None) -> dict[str, str]:
    found = {"Content-Type": "application/json"}
    if authorization is not None:
        found["Authorization"] = authorization
    if length is None:
        found["Transfer-Encoding"] = "chunked"
    else:
        found["Content-Length"] = str(length)
    return found


CASES = {
    # (Authorization, declared length or None for chunked): the status every caller gets. A
    # declared length over the cap is refused before the caller is checked (it costs nothing).
    "anonymous, 30 MiB declared and sent": (None, LARGE, 413),
    "anonymous, 30 MiB chunked": (None, None, 401),
    "wrong password, 30 MiB chunked": (basic(BASIC_USER, "wrong"), None, 401),
    "authenticated, 30 MiB declared and sent": (basic(), LARGE, 413),
    "authenticated, 30 MiB chunked": (basic(), None, 413),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_large_bodies_never_grow_a_worker_past_the_cap(served: Served, case: str) -> None:
    authorization, length, status = CASES[case]
    answers: list[RawAnswer] = []

    def load() -> None:
        body = LARGE if length is None else length
        answers.extend(
            at_once(
                lambda: raw_post(
                    served.url, head(authorization, length), stream(body, length is None)
                )
            )
        )

    growth = peak_growth_kib(worker(served), load)
    assert [a.status for a in answers] == [status] * AT_ONCE
    assert growth < ALLOWED_GROWTH_KIB, f"{case}: peak RSS rose by {growth} KiB"


FLOODS: dict[str, Callable[[], Iterable[bytes]]] = {
    # 30 MiB of header lines that never end, and one header value of 30 MiB.
    "many lines": lambda: (b"X-A: " + b"a" * 1000 + b"\r\n" for _ in range(LARGE // 1007)),
    "one long value": lambda: [b"X-A: "] + [b"a" * (64 * 1024)] * (LARGE // (64 * 1024)),
}


@pytest.mark.parametrize("flood", sorted(FLOODS))
def test_a_header_block_that_never_ends_never_grows_a_worker_past_the_cap(
    served: Served, flood: str
) -> None:
    answers: list[RawAnswer] = []

    def load() -> None:
        answers.extend(at_once(lambda: raw_exchange(served.url, FLOODS[flood]())))

    growth = peak_growth_kib(worker(served), load)
    # The server refuses the header block and closes: no request reaches the function.
    assert {a.status for a in answers} <= {0, 400, 431}, [a.text[:80] for a in answers]
    assert growth < ALLOWED_GROWTH_KIB, f"{flood}: peak RSS rose by {growth} KiB"


def test_a_declared_body_that_never_comes_from_a_stranger_is_refused_at_once(
    served: Served,
) -> None:
    answers = at_once(lambda: raw_post(served.url, head(None, 1000)))
    assert [a.status for a in answers] == [401] * AT_ONCE
    assert all("connection: close" in a.text.lower() for a in answers)
    assert max(a.seconds for a in answers) < DEADLINE_MS / 1000


def test_a_declared_body_that_never_comes_is_not_waited_for_past_the_deadline(
    served: Served,
) -> None:
    answers = at_once(lambda: raw_post(served.url, head(basic(), 1000), [b"{"]))
    assert [a.status for a in answers] == [408] * AT_ONCE
    assert all('"code":"request_timeout"' in a.text for a in answers)
    assert all("connection: close" in a.text.lower() for a in answers)
    # Answered at the deadline, not later (the margin is for a busy machine).
    assert max(a.seconds for a in answers) < DEADLINE_MS / 1000 + 1.0
    assert min(a.seconds for a in answers) >= DEADLINE_MS / 1000 * 0.9


def test_the_worker_still_answers_afterwards(served: Served) -> None:
    body = (Path(__file__).parent / "samples" / "okta_ssr_request.json").read_bytes()
    answer = raw_post(served.url, head(basic(), len(body)), [body])
    assert answer.status == 200


# A policy pattern that would backtrack for ages under Python's `re` (exponential in the length
# of a run of "a"): matched by RE2, the worker answers at once and stays free.
CATASTROPHIC = """
[attributes.nickName]
pattern = "(a+)+$"
reason = "INVALID_NICKNAME"

[messages]
INVALID_NICKNAME = "Letters a only."
"""


@pytest.fixture(scope="module")
def backtracking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("pattern")
    policy = folder / "policy.toml"
    policy.write_text(CATASTROPHIC, encoding="utf-8")
    env = {
        "OKTA_HOOK_BASIC_CREDENTIALS": f"{BASIC_USER}:{BASIC_PASSWORD}",
        "OKTA_HOOK_POLICY": str(policy),
    }
    with serve(env, folder) as server:
        yield server


@pytest.mark.parametrize("value", ["a" * 40 + "!", "a" * 30_000 + "!"])
def test_no_pattern_holds_a_worker_on_a_value_made_to_backtrack(
    backtracking: Served, value: str
) -> None:
    body = json.loads((Path(__file__).parent / "samples" / "okta_ssr_request.json").read_text())
    body["data"]["userProfile"]["nickName"] = value
    headers = {"Authorization": basic(), "Content-Type": "application/json"}
    # Under a backtracking matcher this call would still be running when the client gives up.
    status, _, answer = backtracking.post(json.dumps(body).encode(), headers, timeout=10.0)
    assert status == 200
    causes = json.loads(answer)["error"]["errorCauses"]
    assert [(c["location"], c["reason"]) for c in causes] == [
        ("data.userProfile.nickName", "INVALID_NICKNAME")
    ]
    body["data"]["userProfile"]["nickName"] = "aaa"
    status, _, answer = backtracking.post(json.dumps(body).encode(), headers)
    assert json.loads(answer)["commands"][0]["value"]["registration"] == "ALLOW"
