"""Runs gcloud and curl: each command printed first; one that changes something is only
printed in a dry run, and in a plan nothing runs at all. Never a shell string; secrets go in on
standard input or descriptor 3."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tools.deploy.output import CommandFailed, Refused, cmdline

READ_SECONDS = 120.0
CHANGE_SECONDS = 600.0
# curl reads a body on descriptor 3 from a pipe filled before it starts: it must fit the pipe.
MAX_BODY_BYTES = 32 * 1024
BODY_FD = 3


@dataclass(frozen=True)
class Done:
    status: int
    # May be a secret (a version read to compare digests): never in a repr.
    stdout: bytes = field(default=b"", repr=False)

    @property
    def ok(self) -> bool:
        return self.status == 0

    def text(self) -> str:
        """The output as `$(command)` gives it: decoded, trailing line breaks dropped."""
        return self.stdout.decode("utf-8", "replace").rstrip("\n")


# What a read answers in a plan: nothing found, as in a new project.
NOT_RUN = -1


class Runner:
    def __init__(self, *, dry_run: bool, env: Mapping[str, str], plan: bool = False) -> None:
        """`plan`: run nothing, not even reads, which find nothing (a plan is that of a first
        deploy); a plan is also a dry run."""
        self.dry_run = dry_run or plan
        self.plan = plan
        self.changes = 0
        self._env = dict(env)

    def check(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        body: bytes | None = None,
        quiet: bool = False,
        timeout: float = READ_SECONDS,
    ) -> Done:
        """A read-only command: run in a dry run too; its output is kept, `quiet` drops errors.
        In a plan it is only printed, and finds nothing."""
        if self.plan:
            print(f"[read] {cmdline(argv)}")
            return Done(NOT_RUN)
        print(f"+ {cmdline(argv)}")
        return self._run(argv, stdin=stdin, body=body, capture=True, quiet=quiet, timeout=timeout)

    def change(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        body: bytes | None = None,
        capture: bool = False,
        must: bool = True,
        timeout: float = CHANGE_SECONDS,
        count: bool = True,
    ) -> Done | None:
        """A command that changes something: counted (unless `count` is False: a call that only
        reaches something, like a test request), and run unless this is a dry run (None).
        A failure stops the deploy with the command's status, unless `must` is False; a change
        that failed is not counted."""
        self.changes += count
        if self.dry_run:
            print(f"[{'plan' if self.plan else 'dry-run'}] {cmdline(argv)}")
            return None
        print(f"+ {cmdline(argv)}")
        done = self._run(argv, stdin=stdin, body=body, capture=capture, timeout=timeout)
        if not done.ok:
            self.changes -= count
            if must:
                raise CommandFailed(done.status)
        return done

    def _run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None,
        capture: bool,
        timeout: float,
        quiet: bool = False,
        body: bytes | None = None,
    ) -> Done:
        sys.stdout.flush()
        body_fd = _pipe_holding(body) if body is not None else None
        try:
            done = subprocess.run(  # noqa: S603  an argv list the deploy made; no shell
                list(argv),
                input=stdin if stdin is not None else None,
                stdin=subprocess.DEVNULL if stdin is None else None,
                stdout=subprocess.PIPE if capture else None,
                stderr=subprocess.DEVNULL if quiet else None,
                env=self._env,
                timeout=timeout,
                # Descriptor 3 must stay open across exec: only inheritable ones do.
                close_fds=body_fd is None,
                preexec_fn=_as_body_fd(body_fd) if body_fd is not None else None,
            )
        except subprocess.TimeoutExpired:
            raise Refused(f"{argv[0]} gave no answer within {timeout:g} s") from None
        except FileNotFoundError:
            raise Refused(f"{argv[0]} is not installed") from None
        finally:
            if body_fd is not None:
                os.close(body_fd)
        return Done(done.returncode, done.stdout or b"")


def _pipe_holding(data: bytes) -> int:
    """The read end of a pipe already holding all of `data` and closed for writing."""
    if len(data) > MAX_BODY_BYTES:
        raise Refused(f"a request body of {len(data)} bytes is too large")
    read_end, write_end = os.pipe()
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view) :]
    finally:
        os.close(write_end)
    return read_end


def _as_body_fd(read_end: int) -> Callable[[], None]:
    def move() -> None:  # in the child, between fork and exec
        if read_end == BODY_FD:
            os.set_inheritable(BODY_FD, True)
        else:
            os.dup2(read_end, BODY_FD)  # the copy is inheritable

    return move
