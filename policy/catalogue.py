"""Messages per reason code and locale: the policy's `[messages]`, then the built-in ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from okta_wire.names import REASON
from policy import reasons
from policy.locales import language, tag
from policy.schema import PolicyError, table

# What a person reads under a field; far more than any real message needs.
MAX_MESSAGE_CHARS = 1000


@dataclass(frozen=True)
class Messages:
    """The messages for one request: its locale, then the default locale, then the built-ins."""

    locale: str
    chain: tuple[Mapping[str, str], ...]

    def __call__(self, reason: str) -> str:
        for entries in self.chain:
            if reason in entries:
                return entries[reason]
        return reasons.BUILTIN_MESSAGES.get(reason) or reasons.BUILTIN_MESSAGES[reasons.DENIED]


@dataclass(frozen=True)
class Catalogue:
    default_locale: str
    # Locale tag -> reason -> message; always holds the default locale (maybe empty).
    tables: Mapping[str, Mapping[str, str]]

    def has_default(self, reason: str) -> bool:
        return reason in self.tables[self.default_locale] or reason in reasons.BUILTIN_MESSAGES

    def choose(self, preferred: Sequence[str]) -> str:
        """The first preferred locale with a catalogue: `fr-ca`, else `fr`, else any `fr-*`."""
        for wanted in preferred:
            lang = language(wanted)
            for candidate in (wanted, lang):
                if candidate in self.tables:
                    return candidate
            siblings = sorted(t for t in self.tables if language(t) == lang)
            if siblings:
                return siblings[0]
        return self.default_locale

    def messages(self, preferred: Sequence[str] = ()) -> Messages:
        locale = self.choose(preferred)
        order = dict.fromkeys((locale, language(locale), self.default_locale))
        return Messages(locale, tuple(self.tables[t] for t in order if t in self.tables))


def parse_catalogue(document: Mapping[str, Any]) -> Catalogue:
    default = tag(document.get("default_locale", reasons.BUILTIN_LOCALE))
    if default is None:
        raise PolicyError(
            "default_locale must be a locale such as 'en' or 'fr_FR'", ("default_locale",)
        )
    messages = table(document, "messages", ())
    tables: dict[str, dict[str, str]] = {default: {}}
    keys: dict[str, str] = {}  # locale tag -> the key that named it, for errors
    for key, value in messages.items():
        if not isinstance(value, dict):
            _add(tables[default], key, value, ("messages",))
    for key, value in messages.items():
        if isinstance(value, dict):
            locale = tag(key)
            if locale is None:
                raise PolicyError(
                    f"[messages] {key!r} is not a locale (such as fr or fr_CA)", ("messages", key)
                )
            if locale in keys:
                raise PolicyError(
                    f"[messages.{key}] repeats [messages.{keys[locale]}]", ("messages", key)
                )
            keys[locale] = key
            for reason, message in value.items():
                _add(tables.setdefault(locale, {}), reason, message, ("messages", key))
    for locale, entries in tables.items():
        for reason in entries:
            if reason not in tables[default] and reason not in reasons.BUILTIN_MESSAGES:
                raise PolicyError(
                    f"[messages.{keys[locale]}] {reason} has no message in the default locale "
                    f"{default} (add it to [messages])",
                    ("messages", keys[locale], reason),
                )
    return Catalogue(default, tables)


def _add(entries: dict[str, str], reason: str, message: object, path: tuple[str, ...]) -> None:
    name = "[" + ".".join(path) + "]"
    if not REASON.fullmatch(reason):
        raise PolicyError(f"{name} {reason!r} is not a reason code (A-Z, 0-9, _)", (*path, reason))
    if not isinstance(message, str) or not message.strip():
        raise PolicyError(f"{name} {reason} must be a non-empty string", (*path, reason))
    if len(message) > MAX_MESSAGE_CHARS:
        # Twenty causes of long messages would make an answer Okta cannot take: the DENY would
        # become a 500.
        raise PolicyError(
            f"{name} {reason} is over {MAX_MESSAGE_CHARS} characters", (*path, reason)
        )
    if reason in entries:
        raise PolicyError(f"{name} {reason} is given twice for one locale", (*path, reason))
    entries[reason] = message
