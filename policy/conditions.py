"""`when` conditions: what a rule, a requirement or a whole attribute check depends on.

A condition is one of: the request type; the domain of the email address in a list; another
attribute equal to a value or in a set of values; or `all`, `any`, `not` of conditions. It is
judged on the values as they would be stored (normalised), never on the outcome of another rule,
so the order of rules changes nothing. A condition on a missing attribute is false.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import Unavailable
from okta_wire.models import RequestType
from policy.addresses import email_domain
from policy.domains import domain_set
from policy.entries import DomainSet, ValueSet, value_key
from policy.outside import ListRef, Outside, parse_ref
from policy.schema import REQUEST_TYPES, Path, PolicyError, where

if TYPE_CHECKING:
    from directory.rule import Judgement
    from lists.entries import Members
    from policy.directory_rules import DirectoryRule

EMAIL = "email"
# Each form of a condition table, by the keys it has.
FORMS = ("request_type", "email_domain", "equals", "in", "all", "any", "not")


class Facts:
    """What conditions read: the request type and the values as they would be stored (the
    submitted ones, normalised, then on a progressive request the current profile); and what
    rules read from outside the policy (lists, the directory), with what came of it."""

    __slots__ = (
        "_domain",
        "_domain_known",
        "_last",
        "current",
        "outcomes",
        "outside",
        "request_type",
        "values",
    )

    def __init__(
        self,
        request_type: RequestType,
        values: Mapping[str, object],
        current: Mapping[str, object] | None = None,
        outside: Outside | None = None,
    ) -> None:
        self.request_type = request_type
        self.values = values
        self.current = current or {}
        self.outside = outside
        # (rule, outcome code) of each list or directory rule that did something worth a log
        # line: `lists.partners` failing open, `directory.hr` directory_found. Never a value.
        self.outcomes: list[tuple[str, str]] = []
        self._domain: str | None = None
        self._domain_known = False
        self._last: tuple[str, str | None] | None = None

    def members(self, ref: ListRef) -> Members | None:
        if self.outside is None:
            raise Unavailable(f"list {ref.name}: no list is read here")
        found = self.outside.members(ref)
        if found is None:
            self.note(f"lists.{ref.name}", "fail_open")
        return found

    def lookup(self, rule: DirectoryRule, values: Mapping[str, str]) -> Judgement:
        if self.outside is None:
            raise Unavailable(f"directory {rule.name}: no directory is called here")
        return self.outside.lookup(rule, values)

    def note(self, rule: str, outcome: str) -> None:
        if (rule, outcome) not in self.outcomes:
            self.outcomes.append((rule, outcome))

    def get(self, name: str) -> object:
        if name in self.values:
            return self.values[name]
        return self.current.get(name)

    def domain_of(self, value: str) -> str | None:
        """`email_domain(value)`, worked out once for the several checks of one address."""
        last = self._last
        if last is None or last[0] is not value:
            last = self._last = (value, email_domain(value))
        return last[1]

    @property
    def email_domain(self) -> str | None:
        if not self._domain_known:
            value = self.get(EMAIL)
            self._domain = self.domain_of(value) if isinstance(value, str) else None
            self._domain_known = True
        return self._domain


@dataclass(frozen=True)
class Reference:
    """An attribute a condition compares, with the values it is compared to: for the loader's
    cross-checks (unknown attributes, values of another type)."""

    attribute: str
    values: tuple[object, ...]
    at: Path
    # `email_domain`: the domain of `email` is compared (with `values` empty).
    domain: bool = False
    # `in` or `email_domain` = { list = ... }: compared with a list's entries (`values` empty).
    listed: ListRef | None = None


class Condition:
    at: Path = ()

    def holds(self, facts: Facts) -> bool:
        raise NotImplementedError

    def outcome(self, request_type: RequestType) -> bool | None:
        """True or False when the request type alone settles it, else None."""
        return None

    def references(self) -> Iterator[Reference]:
        return iter(())

    def text(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class RequestTypeIs(Condition):
    types: frozenset[RequestType]
    at: Path = ()

    def holds(self, facts: Facts) -> bool:
        return facts.request_type in self.types

    def outcome(self, request_type: RequestType) -> bool | None:
        return request_type in self.types

    def text(self) -> str:
        names = sorted(t.short for t in self.types)
        return f"request type {' or '.join(names)}"


@dataclass(frozen=True)
class EmailDomainIn(Condition):
    domains: DomainSet | ListRef
    at: Path = ()

    def holds(self, facts: Facts) -> bool:
        domain = facts.email_domain
        if domain is None:
            return False
        # A condition's list never fails open (the loader refuses it): None never comes back.
        members = self.domains.members(facts)
        return members is not None and domain in members

    def references(self) -> Iterator[Reference]:
        listed = self.domains if isinstance(self.domains, ListRef) else None
        yield Reference(EMAIL, (), self.at, domain=True, listed=listed)

    def text(self) -> str:
        return f"email domain in {', '.join(self.domains.written)}"


@dataclass(frozen=True)
class AttributeIn(Condition):
    attribute: str
    values: ValueSet | ListRef
    at: Path = ()
    # `equals = v` is `in = [v]`, written as it was for summaries.
    single: bool = False

    def holds(self, facts: Facts) -> bool:
        value = facts.get(self.attribute)
        if isinstance(self.values, ValueSet):
            return value in self.values
        if value is None or value == "":
            return False  # a comparison with a missing attribute is false: no list is read
        members = self.values.members(facts)
        return members is not None and value in members

    def references(self) -> Iterator[Reference]:
        if isinstance(self.values, ListRef):
            yield Reference(self.attribute, (), self.at, listed=self.values)
        else:
            yield Reference(self.attribute, tuple(self.values), self.at)

    def text(self) -> str:
        if self.single:
            return f"{self.attribute} = {self.values.written[0]}"
        if isinstance(self.values, ListRef):
            return f"{self.attribute} in {self.values.written[0]}"
        return f"{self.attribute} in [{', '.join(self.values.written)}]"


@dataclass(frozen=True)
class All(Condition):
    parts: tuple[Condition, ...]
    at: Path = ()

    def holds(self, facts: Facts) -> bool:
        for part in self.parts:  # a loop, not all(...): no generator on the request's path
            if not part.holds(facts):
                return False
        return True

    def outcome(self, request_type: RequestType) -> bool | None:
        found = [part.outcome(request_type) for part in self.parts]
        if False in found:
            return False
        return True if all(found) else None

    def references(self) -> Iterator[Reference]:
        for part in self.parts:
            yield from part.references()

    def text(self) -> str:
        return "(" + " and ".join(part.text() for part in self.parts) + ")"


@dataclass(frozen=True)
class Any_(Condition):
    parts: tuple[Condition, ...]
    at: Path = ()

    def holds(self, facts: Facts) -> bool:
        for part in self.parts:
            if part.holds(facts):
                return True
        return False

    def outcome(self, request_type: RequestType) -> bool | None:
        found = [part.outcome(request_type) for part in self.parts]
        if True in found:
            return True
        return False if all(value is False for value in found) else None

    def references(self) -> Iterator[Reference]:
        for part in self.parts:
            yield from part.references()

    def text(self) -> str:
        return "(" + " or ".join(part.text() for part in self.parts) + ")"


@dataclass(frozen=True)
class Not(Condition):
    part: Condition
    at: Path = ()

    def holds(self, facts: Facts) -> bool:
        return not self.part.holds(facts)

    def outcome(self, request_type: RequestType) -> bool | None:
        found = self.part.outcome(request_type)
        return None if found is None else not found

    def references(self) -> Iterator[Reference]:
        return self.part.references()

    def text(self) -> str:
        return f"not {self.part.text()}"


def can_hold(condition: Condition | None, request_types: frozenset[RequestType]) -> bool:
    """Whether `condition` may hold on some request of these types."""
    if condition is None:
        return bool(request_types)
    return any(condition.outcome(t) is not False for t in request_types)


def parse_when(table: Mapping[str, Any], key: str, path: Path) -> Condition | None:
    if key not in table:
        return None
    return parse_condition(table[key], (*path, key))


# all, any and not nest conditions; deeper than this is refused rather than recursed into.
MAX_CONDITION_DEPTH = 16


def parse_condition(value: object, path: Path) -> Condition:
    name = where(path)
    if sum(step in ("all", "any", "not") for step in path) > MAX_CONDITION_DEPTH:
        raise PolicyError(f"{name}: conditions nest at most {MAX_CONDITION_DEPTH} levels", path)
    if not isinstance(value, dict):
        raise PolicyError(
            f"{name} must be a table such as {{ request_type = 'registration' }}", path
        )
    forms = [key for key in FORMS if key in value]
    extra = sorted(set(value) - set(FORMS) - {"attribute"})
    if extra:
        raise PolicyError(
            f"{name}: unknown key {extra[0]!r} (a condition is one of: {', '.join(FORMS)})",
            (*path, extra[0]),
        )
    if len(forms) != 1:
        raise PolicyError(
            f"{name} must have exactly one of {', '.join(FORMS)} (found "
            f"{', '.join(forms) or 'none'}); combine conditions with all = [...] or any = [...]",
            path,
        )
    form = forms[0]
    if "attribute" in value and form not in ("equals", "in"):
        raise PolicyError(f"{name}: attribute goes with equals or in, not {form}", path)
    at = (*path, form)
    match form:
        case "request_type":
            return RequestTypeIs(_request_types(value[form], at), path)
        case "email_domain":
            entries = value[form]
            if isinstance(entries, dict):
                return EmailDomainIn(_condition_ref(entries, at), path)
            if not isinstance(entries, list) or not entries or not _all_strings(entries):
                raise PolicyError(f"{name} email_domain must be a non-empty list of domains", at)
            return EmailDomainIn(domain_set(entries, f"{name} email_domain", at), path)
        case "equals" | "in":
            attribute = value.get("attribute")
            if not isinstance(attribute, str) or not attribute:
                raise PolicyError(
                    f"{name}: {form} needs attribute = the attribute it compares", path
                )
            if form == "in" and isinstance(value[form], dict):
                return AttributeIn(attribute, _condition_ref(value[form], at), path)
            values = [value[form]] if form == "equals" else value[form]
            if form == "in" and (not isinstance(values, list) or not values):
                raise PolicyError(f"{name} in must be a non-empty list of values", at)
            for item in values:
                if value_key(item) is None or isinstance(item, float) and not math.isfinite(item):
                    raise PolicyError(
                        f"{name} {form}: compare with strings, numbers or booleans", at
                    )
            return AttributeIn(attribute, ValueSet(values), path, single=form == "equals")
        case "all" | "any":
            parts = value[form]
            if not isinstance(parts, list) or not parts:
                raise PolicyError(f"{name} {form} must be a non-empty list of conditions", at)
            found = tuple(parse_condition(part, (*at, str(i))) for i, part in enumerate(parts))
            return All(found, path) if form == "all" else Any_(found, path)
        case _:
            return Not(parse_condition(value[form], at), path)


def _condition_ref(value: dict[str, Any], at: Path) -> ListRef:
    """A list in a condition never fails open: a condition decides which rules apply, and no
    answer is safe while its list was never read (a 503, which Okta retries)."""
    if "fail_open" in value:
        raise PolicyError(
            f"{where(at)}: a list in a condition cannot fail open (while it was never read the "
            "hook answers 503)",
            (*at, "fail_open"),
        )
    return dataclasses.replace(parse_ref(value, at), fail_open=False)


def _all_strings(values: list[Any]) -> bool:
    return all(isinstance(v, str) for v in values)


def _request_types(value: object, at: Path) -> frozenset[RequestType]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not _all_strings(names):
        raise PolicyError(
            f"{where(at[:-1])} request_type must be 'registration', 'progressive' or a list", at
        )
    for item in names:
        if item not in REQUEST_TYPES:
            raise PolicyError(
                f"{where(at[:-1])} request_type: {item!r} is not 'registration' or 'progressive'",
                at,
            )
    return frozenset(REQUEST_TYPES[item] for item in names)
