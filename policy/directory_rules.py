"""`[directory.NAME]`: a rule that looks submitted values up in the company's directory (an HR
system's HTTPS API) and judges its answer: the record exists, its fields match, and values are
copied from it onto the profile on ALLOW. Read here into directory/'s own settings, so that the
policy and the lookup can never disagree on what a key means."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from directory.rule import MISMATCH, NOT_FOUND, Judgement
from directory.settings import DirectorySettings, Match
from directory.templates import BodyTemplate, JsonPath, UrlTemplate
from okta_wire.models import RequestType
from okta_wire.names import REASON
from policy import reasons
from policy.conditions import Condition, parse_when
from policy.outside import NAME
from policy.schema import (
    Path,
    PolicyError,
    attribute_name,
    boolean,
    finite_number,
    only,
    request_types,
    where,
)
from secret_sources.secret_manager import parse_version_name

KEYS = {
    "url", "body", "method", "on", "when", "attribute", "record", "match", "copy",
    "found_statuses", "not_found_statuses", "timeout_seconds", "ttl_seconds",
    "negative_ttl_seconds", "failures_to_open", "open_seconds", "fail_open", "bearer_secret",
    "api_key_secret", "api_key_header", "id_token_audience", "ca_bundle", "mismatch_reason",
    "not_found_reason", "unavailable_reason", "shadow",
}  # fmt: skip
MATCH_KEYS = {"path", "attribute", "ignore_case"}
AUTH_KEYS = ("bearer_secret", "api_key_secret", "id_token_audience")
REASON_KEYS = {
    "mismatch_reason": reasons.DIRECTORY_MISMATCH,
    "not_found_reason": reasons.DIRECTORY_NOT_FOUND,
    "unavailable_reason": reasons.DIRECTORY_UNAVAILABLE,
}


@dataclass(frozen=True)
class DirectoryAuth:
    """How a lookup proves who calls: a Secret Manager version holding a bearer token or an API
    key (sent in `api_key_header`), a Google ID token for `id_token_audience`, or nothing."""

    bearer_secret: str | None = None
    api_key_secret: str | None = None
    api_key_header: str | None = None
    id_token_audience: str | None = None

    @property
    def secret(self) -> str | None:
        """The secret version the function must be able to read, if any."""
        return self.bearer_secret or self.api_key_secret

    def describe(self) -> str:
        if self.bearer_secret:
            return f"bearer token from {self.bearer_secret}"
        if self.api_key_secret:
            return f"API key in {self.api_key_header} from {self.api_key_secret}"
        if self.id_token_audience:
            return f"Google ID token for {self.id_token_audience}"
        return "no credential"


@dataclass(frozen=True)
class DirectoryRule:
    """One lookup, on the request types in `on` (and when `when` holds): a cause on
    `attribute` with the reason for a mismatch, no record, or no answer while the directory is
    known to be failing."""

    name: str
    settings: DirectorySettings
    on: frozenset[RequestType]
    auth: DirectoryAuth
    attribute: str
    mismatch_reason: str = reasons.DIRECTORY_MISMATCH
    not_found_reason: str = reasons.DIRECTORY_NOT_FOUND
    unavailable_reason: str = reasons.DIRECTORY_UNAVAILABLE
    shadow: bool = False
    when: Condition | None = None

    @property
    def reads(self) -> tuple[str, ...]:
        """The submitted attributes the lookup is made with (its URL, body and matches)."""
        return self.settings.fields

    @property
    def copies(self) -> tuple[str, ...]:
        return tuple(self.settings.copy)

    def reasons(self) -> tuple[str, str, str]:
        return self.mismatch_reason, self.not_found_reason, self.unavailable_reason

    def reason_for(self, judgement: Judgement) -> str:
        if judgement.reason == MISMATCH:
            return self.mismatch_reason
        if judgement.reason == NOT_FOUND:
            return self.not_found_reason
        return self.unavailable_reason


def parse_directory(tables: Mapping[str, Any], base: FilePath | None) -> tuple[DirectoryRule, ...]:
    """Every `[directory.NAME]`; `base` is the policy file's folder (a CA bundle's path is
    read from there)."""
    return tuple(_rule(name, table, base) for name, table in tables.items())


def _rule(name: str, table: object, base: FilePath | None) -> DirectoryRule:
    path = ("directory", name)
    if not NAME.fullmatch(name):
        raise PolicyError(
            f"{where(path)}: a rule's name is a letter, then letters, digits, _, -", path
        )
    if not isinstance(table, dict):
        raise PolicyError(f"{where(path)} must be a table", path)
    only(table, KEYS, path)
    on = request_types(table, "on", path)
    if not on:
        raise PolicyError(
            f"{where(path)} on must name the request types it applies to "
            "('registration', 'progressive')",
            (*path, "on"),
        )
    url = _built(path, "url", lambda: UrlTemplate(_text(table, "url", path, required=True)))
    body = None
    if "body" in table:
        body = _built(path, "body", lambda: BodyTemplate(_json(table["body"], (*path, "body"))))
    _method(table, body, path)
    settings = _built(path, None, lambda: _settings(name, table, url, body, path, base))
    fields = settings.fields
    if not fields:
        raise PolicyError(
            f"{where(path)} url names no submitted value: write one as {{attributeName}}",
            (*path, "url"),
        )
    attribute = table.get("attribute", fields[0])
    if not isinstance(attribute, str):
        raise PolicyError(
            f"{where(path)} attribute must be an attribute name", (*path, "attribute")
        )
    found_reasons = {
        key: _reason(table, key, default, path) for key, default in REASON_KEYS.items()
    }
    return DirectoryRule(
        name=name,
        settings=settings,
        on=on,
        auth=_auth(table, path),
        attribute=attribute_name(attribute, (*path, "attribute")),
        shadow=boolean(table, "shadow", path),
        when=parse_when(table, "when", path),
        **found_reasons,
    )


def _settings(
    name: str,
    table: Mapping[str, Any],
    url: UrlTemplate,
    body: BodyTemplate | None,
    path: Path,
    base: FilePath | None,
) -> DirectorySettings:
    defaults = DirectorySettings(name, url)
    return DirectorySettings(
        name,
        url,
        body=body,
        found=_statuses(table, "found_statuses", defaults.found, path),
        not_found=_statuses(table, "not_found_statuses", defaults.not_found, path),
        record=_path(table.get("record", ""), (*path, "record")),
        match=tuple(
            _match(entry, (*path, "match", str(i)))
            for i, entry in enumerate(_array(table, "match", path))
        ),  # fmt: skip
        copy=_copies(table, path),
        timeout_seconds=_seconds(table, "timeout_seconds", defaults.timeout_seconds, path),
        positive_ttl_seconds=_seconds(table, "ttl_seconds", defaults.positive_ttl_seconds, path),
        negative_ttl_seconds=_seconds(
            table, "negative_ttl_seconds", defaults.negative_ttl_seconds, path
        ),
        failures_to_open=_count(table, "failures_to_open", defaults.failures_to_open, path),
        open_seconds=_seconds(table, "open_seconds", defaults.open_seconds, path),
        fail_open=boolean(table, "fail_open", path),
        ca_bundle=_ca_bundle(table, path, base),
    )


def _built(path: Path, key: str | None, build: Any) -> Any:
    """`build()`, its ValueError (directory/'s own checks) made a PolicyError at `key`."""
    try:
        return build()
    except ValueError as e:
        at = (*path, key) if key else path
        raise PolicyError(f"{where(path)}{' ' + key if key else ''}: {e}", at) from None


def _text(table: Mapping[str, Any], key: str, path: Path, *, required: bool = False) -> str:
    value = table.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value:
        raise PolicyError(f"{where(path)} {key} must be a non-empty string", (*path, key))
    return value


def _json(value: object, at: Path) -> Any:
    """A TOML value that JSON can hold (no dates, no nan)."""
    if isinstance(value, dict):
        return {key: _json(item, (*at, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_json(item, at) for item in value]
    if isinstance(value, str | bool | int) or isinstance(value, float) and math.isfinite(value):
        return value
    raise PolicyError(f"{where(at[:2])} body holds a value JSON cannot (a date, nan, inf)", at)


def _method(table: Mapping[str, Any], body: BodyTemplate | None, path: Path) -> None:
    method = table.get("method", "POST" if body is not None else "GET")
    if method not in ("GET", "POST"):
        raise PolicyError(f"{where(path)} method must be GET or POST", (*path, "method"))
    if (method == "POST") != (body is not None):
        raise PolicyError(
            f"{where(path)} method {method}: a POST sends the body template, a GET none",
            (*path, "method"),
        )


def _statuses(
    table: Mapping[str, Any], key: str, default: frozenset[int], path: Path
) -> frozenset[int]:
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) for s in value
    ):
        raise PolicyError(f"{where(path)} {key} must be a list of HTTP statuses", (*path, key))
    return frozenset(value)


def _path(value: object, at: Path) -> JsonPath:
    key = ".".join(at[2:])
    if not isinstance(value, str):
        raise PolicyError(f"{where(at[:2])} {key} must be a JSON path such as a.b[0].c", at)
    try:
        return JsonPath(value)
    except ValueError as e:
        raise PolicyError(f"{where(at[:2])} {key}: {e}", at) from None


def _array(table: Mapping[str, Any], key: str, path: Path) -> list[Any]:
    value = table.get(key, [])
    if not isinstance(value, list):
        raise PolicyError(f"{where(path)} {key} must be an array of tables", (*path, key))
    return value


def _match(entry: object, at: Path) -> Match:
    if not isinstance(entry, dict):
        raise PolicyError(f"{where(at)} must be a table with path and attribute", at)
    only(entry, MATCH_KEYS, at)
    attribute = entry.get("attribute")
    if not isinstance(attribute, str):
        raise PolicyError(f"{where(at)} attribute must name a submitted attribute", at)
    return Match(
        _path(entry.get("path"), (*at, "path")),
        attribute_name(attribute, (*at, "attribute")),
        boolean(entry, "ignore_case", at),
    )


def _copies(table: Mapping[str, Any], path: Path) -> dict[str, JsonPath]:
    value = table.get("copy", {})
    if not isinstance(value, dict):
        raise PolicyError(f"{where(path)} copy must be a table: attribute = 'json.path'", path)
    return {
        attribute_name(target, (*path, "copy", target)): _path(source, (*path, "copy", target))
        for target, source in value.items()
    }


def _seconds(table: Mapping[str, Any], key: str, default: float, path: Path) -> float:
    number = finite_number(table.get(key, default))
    if number is None:
        raise PolicyError(f"{where(path)} {key} must be a number of seconds", (*path, key))
    return number


def _count(table: Mapping[str, Any], key: str, default: int, path: Path) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PolicyError(f"{where(path)} {key} must be a whole number", (*path, key))
    return value


def _ca_bundle(table: Mapping[str, Any], path: Path, base: FilePath | None) -> str | None:
    text = _text(table, "ca_bundle", path)
    if not text:
        return None
    file = (base or FilePath()) / text
    if not file.is_file():
        raise PolicyError(
            f"{where(path)} ca_bundle: no such file (a path from the policy's folder)",
            (*path, "ca_bundle"),
        )
    return str(file)


def _auth(table: Mapping[str, Any], path: Path) -> DirectoryAuth:
    given = [key for key in AUTH_KEYS if key in table]
    if len(given) > 1:
        raise PolicyError(
            f"{where(path)}: give one of {', '.join(AUTH_KEYS)}, not {len(given)}",
            (*path, given[1]),
        )
    header = table.get("api_key_header")
    if (header is not None) != ("api_key_secret" in table):
        raise PolicyError(
            f"{where(path)} api_key_secret and api_key_header go together",
            (*path, "api_key_header" if header is not None else "api_key_secret"),
        )
    if header is not None and (not isinstance(header, str) or not _header_name(header)):
        raise PolicyError(
            f"{where(path)} api_key_header is not a header name", (*path, "api_key_header")
        )
    secrets: dict[str, str] = {}
    for key in ("bearer_secret", "api_key_secret"):
        if key in table:
            try:
                secrets[key] = parse_version_name(str(table[key]))
            except ValueError as e:
                raise PolicyError(f"{where(path)} {key}: {e}", (*path, key)) from None
    audience = table.get("id_token_audience")
    if audience is not None and (
        not isinstance(audience, str) or not audience.startswith("https://")
    ):
        raise PolicyError(
            f"{where(path)} id_token_audience must be the https:// URL of the Cloud Run service",
            (*path, "id_token_audience"),
        )
    return DirectoryAuth(
        bearer_secret=secrets.get("bearer_secret"),
        api_key_secret=secrets.get("api_key_secret"),
        api_key_header=header,
        id_token_audience=audience,
    )


def _header_name(text: str) -> bool:
    return bool(text) and all(c.isascii() and (c.isalnum() or c in "-_") for c in text)


def _reason(table: Mapping[str, Any], key: str, default: str, path: Path) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not REASON.fullmatch(value):
        raise PolicyError(f"{where(path)} {key} must be a code of A-Z, 0-9 and _", (*path, key))
    return value
