"""Secret values, read from files or standard input ("-"): never an argument, a line or a repr."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from tools.deploy.options import Options
from tools.deploy.output import Refused


@dataclass(frozen=True)
class SecretInputs:
    """Each secret value given to this run, or "" when it was not given."""

    basic_credentials: str = field(default="", repr=False)
    jwks: str = field(default="", repr=False)
    okta_client_secret: str = field(default="", repr=False)
    okta_api_private_key: str = field(default="", repr=False)


def read_secret_inputs(options: Options, started_in: Path, stdin: BinaryIO) -> SecretInputs:
    """Relative paths are read from where the deploy was started, "-" from standard input."""
    reader = _Reader(started_in, stdin)
    return SecretInputs(
        basic_credentials=reader.read("--basic-credentials-file", options.basic_credentials_file),
        jwks=reader.read("--jwks-file", options.jwks_file),
        okta_client_secret=reader.read(
            "--okta-client-secret-file", options.okta_client_secret_file
        ),
        okta_api_private_key=reader.read(
            "--okta-api-private-key-file", options.okta_api_private_key_file
        ),
    )


class _Reader:
    def __init__(self, started_in: Path, stdin: BinaryIO) -> None:
        self._started_in = started_in
        self._stdin: BinaryIO | None = stdin

    def read(self, option: str, path: str) -> str:
        if not path:
            return ""
        if path == "-":
            if self._stdin is None:
                raise Refused(f"{option} -: standard input already holds another secret")
            data, self._stdin = self._stdin.read(), None
        else:
            file = self._started_in / path
            try:
                if file.is_dir():
                    raise OSError
                data = file.read_bytes()
            except OSError:
                raise Refused(f"{option} {path}: no such readable file") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # The codec's message would quote a byte of the value.
            raise Refused(f"{option} {path}: not UTF-8 text") from None
        # As `$(cat file)` reads it: the line breaks at the end dropped.
        text = text.rstrip("\n")
        if not text.strip():
            raise Refused(f"{option} {path}: the file is empty")
        return text
