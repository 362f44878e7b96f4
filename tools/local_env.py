"""local.env, read for local runs: its settings apply only where the environment has none, so an
exported setting (or a make variable) always wins over the example file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from service.settings import PROJECT_ROOT

LOCAL_ENV = PROJECT_ROOT / "local.env"


def read_local_env(path: Path = LOCAL_ENV) -> dict[str, str]:
    """`NAME=value` lines; `#` starts a comment line; quotes around a value are dropped."""
    found: dict[str, str] = {}
    if not path.is_file():
        return found
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not name.strip().isidentifier():
            raise ValueError(f"{path}:{number}: not NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[name.strip()] = value
    return found


def local_settings(environ: Mapping[str, str], path: Path = LOCAL_ENV) -> dict[str, str]:
    """The environment a local run gets: local.env's settings, each replaced by the
    environment's own when it has one (set, even empty)."""
    return {**read_local_env(path), **environ}
