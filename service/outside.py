"""What the function reads from outside its policy, built once per instance: each list the policy
names (lists.outside_list.OutsideList, kept fresh in the background) and each directory rule's
lookup (directory.client.Directory, with its credential read through Secret Manager or minted as
a Google ID token).

Where the lists live: in the gunicorn master, then shared. functions-framework imports main.py
in gunicorn's master process and forks the `WORKERS` workers from it, so the cold start reads
every list once, in the master, before the port opens; each worker starts with the master's
lists (copy on write: a lookup does not write to the entries) and refreshes them on its own from
then on (lists/ resets its locks and connections at the fork). No request of a new instance ever
waits for, or is refused for want of, a list that could be read at cold start. The price is
memory: the master keeps its cold-start copy for the instance's life, and a worker's first
accepted refresh replaces its shared copy with one of its own, so an instance holds up to
(1 + WORKERS) copies, plus the version being read during a refresh. docs/outside_data.md has
the figures; deploy warns when the lists' sizes need more than --memory.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from core.logs import logger
from core.refreshing import Clock
from directory.auth import Auth, api_key, bearer_token, google_id_token
from directory.client import Directory
from directory.rule import Judgement, judge_lookup
from lists.entries import Members
from lists.outside_list import LOAD_SECONDS, Endpoints, OutsideList
from policy.directory_rules import DirectoryRule
from policy.list_tables import PolicyList
from policy.loader import Policy
from policy.outside import ListRef
from secret_sources.secret_manager import SecretManagerVersion
from secret_sources.setting import SecretSetting
from secret_sources.values import Secret
from service.settings import ConfigError, Settings

__all__ = ["LOAD_SECONDS", "LiveOutside", "build_outside", "check_outside"]


class LiveOutside:
    """The lists and directories of one policy, as the function reads them."""

    def __init__(
        self,
        lists: Mapping[str, tuple[PolicyList, OutsideList]],
        directories: Mapping[str, Directory],
    ) -> None:
        self._lists = dict(lists)
        self._directories = dict(directories)

    def __repr__(self) -> str:
        return f"LiveOutside(lists={sorted(self._lists)}, directories={sorted(self._directories)})"

    def members(self, ref: ListRef) -> Members | None:
        declared, kept = self._lists[ref.name]
        return kept.members_for(ref.rule, fail_open=declared.fails_open(ref))

    def lookup(self, rule: DirectoryRule, values: Mapping[str, str]) -> Judgement:
        return judge_lookup(self._directories[rule.name], values)

    def idle(self, seconds: float) -> bool:
        """Wait (at most `seconds` each) for the lists' background reads under way: for tests
        and tools, never a request."""
        return all(kept.idle(seconds) for _, kept in self._lists.values())

    def load(self, seconds: float = LOAD_SECONDS) -> list[str]:
        """Read every list at once, waiting at most `seconds` in all; the names of those not
        read (their reads go on in the background; rules that need them get 503, or fail open,
        until they land)."""
        ends = time.monotonic() + seconds
        for _, kept in self._lists.values():
            kept.load(0.0)  # starts the read; the waits below overlap
        missing = []
        for name, (_, kept) in self._lists.items():
            kept.idle(max(0.0, ends - time.monotonic()))
            if not kept.loaded():
                missing.append(name)
        if missing:
            logger.error(
                "lists not read at cold start: %s; rules that need them answer 503 (or fail "
                "open) until they are",
                ", ".join(missing),
                extra={"fields": {"event": "list", "lists": missing}, "report": True},
            )
        return missing


def build_outside(policy: Policy, settings: Settings, clock: Clock) -> LiveOutside | None:
    """The policy's lists and directories, built (nothing is read yet); None when it names
    neither. Raises ConfigError for a directory that cannot be used with these settings."""
    if not policy.lists and not policy.directory:
        return None
    endpoints = Endpoints(settings.storage_endpoint, settings.secret_manager_endpoint)
    lists = {
        name: (declared, OutsideList(declared.settings, endpoints=endpoints, clock=clock))
        for name, declared in policy.lists.items()
    }
    check_outside(policy, settings)
    directories = {}
    for rule in policy.directory:
        try:
            directories[rule.name] = Directory(
                rule.settings, _auth(rule, settings, clock), clock=clock
            )
        except OSError as e:  # the CA bundle cannot be read (ssl.SSLError is an OSError)
            raise ConfigError(
                f"[directory.{rule.name}] ca_bundle cannot be used: {type(e).__name__}"
            ) from None
    return LiveOutside(lists, directories)


def check_outside(policy: Policy, settings: Settings) -> None:
    """What the policy's outside data needs of the settings (the deploy checks it too): each
    directory's timeout within the request's deadline. Raises ConfigError."""
    deadline_seconds = settings.deadline_ms / 1000
    for rule in policy.directory:
        if rule.settings.timeout_seconds >= deadline_seconds:
            raise ConfigError(
                f"[directory.{rule.name}] timeout_seconds {rule.settings.timeout_seconds:g} is not "
                f"within the request's deadline of {deadline_seconds:g} s (OKTA_HOOK_DEADLINE_MS)"
            )


def _auth(rule: DirectoryRule, settings: Settings, clock: Clock) -> Auth | None:
    auth = rule.auth
    if auth.id_token_audience is not None:
        return google_id_token(auth.id_token_audience, clock=clock)
    if auth.secret is None:
        return None
    label = f"directory {rule.name} credential"
    source = SecretManagerVersion(label, auth.secret, settings.secret_manager_endpoint)
    secret = SecretSetting(label, source, settings.secret_refresh_seconds, clock).reading(Secret)
    if auth.bearer_secret is not None:
        return bearer_token(secret)
    if auth.api_key_header is None:  # the loader requires it with api_key_secret
        raise ValueError(f"directory {rule.name}: api_key_secret without api_key_header")
    return api_key(auth.api_key_header, secret)
