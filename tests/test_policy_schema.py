"""The JSON Schema of the policy file and the loader agree: on every shipped policy, on broken
files, and on generated ones (whatever the loader accepts, the schema accepts)."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from policy.loader import PolicyError, parse_policy
from tests.conftest import SHIPPED_POLICIES
from tools import policy_schema

SCHEMA = policy_schema.schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def schema_accepts(document: dict[str, Any]) -> bool:
    return bool(VALIDATOR.is_valid(document))


def loader_accepts(text: str) -> bool:
    try:
        parse_policy(text, "p.toml")
    except PolicyError:
        return False
    return True


def test_the_committed_schema_is_the_generated_one() -> None:
    assert policy_schema.main(["--check"]) == 0
    assert json.loads(policy_schema.OUTPUT.read_text("utf-8")) == SCHEMA


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", SHIPPED_POLICIES, ids=lambda p: p.name)
def test_every_shipped_policy_names_the_schema_and_passes_it(path: Any) -> None:
    text = path.read_text("utf-8")
    assert text.startswith("#:schema ./policy.schema.json\n")
    assert loader_accepts(text)
    assert schema_accepts(tomllib.loads(text)), list(VALIDATOR.iter_errors(tomllib.loads(text)))


VALID = [
    "",
    "shadow = true",
    "[attributes.age]\ntype = 'integer'\nmin = 18\nmax = 120",
    "[attributes.n]\ntype = 'number'\nmin = 0.5",
    "[attributes.ok]\ntype = 'boolean'\nequals = true\nrequired = ['registration']",
    "[attributes.c]\ntype = 'string'\none_of = ['FR', 'DE']\nmin_length = 2\nmax_length = 2",
    "[attributes.t]\ntype = 'array'\nitems = 'string'\nmin_items = 1\nmax_items = 3\nunique = true\none_of = ['a', 'b']",
    "[attributes.t]\ntype = 'array'\nitems = 'integer'\none_of = [1, 2]",
    "[attributes.x]\nrequired = ['registration']\nrequired_when = { not = { request_type = 'progressive' } }",
    "[attributes.c]\ntype = 'string'\n[attributes.x]\nwhen = { any = [{ attribute = 'c', equals = 'FR' }, { attribute = 'c', in = ['DE'] }] }",
    "[attributes.age]\ntype = 'integer'\n[[attributes.age.rules]]\nwhen = { request_type = ['registration'] }\nmin = 21\nreason = 'TOO_YOUNG'\nshadow = true\n[messages]\nTOO_YOUNG = 'x'",
    "[network]\nblocked = ['203.0.113.0/24', '2001:db8::/32']\nattribute = 'email'\nshadow = true",
    "[network]\nallowed = ['10.0.0.0/8']\nwhen = { request_type = 'registration' }",
    "[attributes.email]\ntype = 'email'\n[disposable_domains]\ndeny = true\nallowed = ['mailinator.com']",
    "[attributes.email]\ntype = 'email'\n[domains]\nallowed = ['example.com']\n[attributes.e]\nwhen = { email_domain = ['example.com'] }",
    "[set.userType]\nvalue = ['a', 1, true]\non = ['registration']",
    "[messages]\nDENIED = 'no'\n[messages.fr]\nDENIED = 'non'",
    # lists kept outside the policy, wherever a literal list goes
    "[lists.p]\nsource = 'gs://acme-lists/p.txt'\nkind = 'domains'\nfail_open = true\nrefresh_seconds = 30\n[attributes.email]\ntype = 'email'\n[domains]\nallowed = { list = 'p', fail_open = false }",
    "[lists.n]\nsecret = 'projects/acme-hook/secrets/n/versions/latest'\nkind = 'networks'\nmax_shrink = 1\n[network]\nblocked = { list = 'n' }",
    "[lists.c]\nsource = 'gs://acme-lists/c.csv'\nkind = 'codes'\ncsv_column = 'code'\nmax_bytes = 1024\n[attributes.code]\none_of = { list = 'c' }\n[attributes.x]\nwhen = { attribute = 'code', in = { list = 'c' } }",
    "[lists.d]\nsource = 'gs://acme-lists/d'\nkind = 'domains'\n[attributes.email]\ntype = 'email'\n[disposable_domains]\ndeny = true\nallowed = { list = 'd' }\n[attributes.x]\nwhen = { email_domain = { list = 'd' } }",
    # a directory rule
    "[attributes.email]\ntype = 'email'\n[domains]\nallowed = ['acme.example']\n[attributes.n]\ntype = 'string'\n[directory.hr]\nurl = 'https://hr.acme.example/people/{n}'\non = ['registration']\nwhen = { email_domain = ['acme.example'] }\nmatch = [{ path = 'work.email', attribute = 'email', ignore_case = true }]\ncopy = { department = 'work.department' }\nrecord = 'results[0]'\nfound_statuses = [200]\nnot_found_statuses = [404, 410]\ntimeout_seconds = 1.5\nttl_seconds = 600\nnegative_ttl_seconds = 0\nfailures_to_open = 3\nopen_seconds = 10\nfail_open = true\nbearer_secret = 'projects/acme-hook/secrets/hr/versions/latest'\nattribute = 'n'\nshadow = false",
    "[attributes.n]\ntype = 'integer'\n[directory.hr]\nurl = 'https://hr.acme.example/search'\nbody = { number = '{n}', active = true }\nmethod = 'POST'\non = ['registration']\napi_key_secret = 'projects/acme-hook/secrets/k/versions/2'\napi_key_header = 'X-API-Key'\nnot_found_reason = 'NOT_STAFF'\n[messages]\nNOT_STAFF = 'x'",
]

# Each refused by the loader for its shape, which the schema states too.
INVALID = [
    "colour = 'blue'",
    "shadow = 'yes'",
    "[attributes.x]\ntype = 'float'",
    "[attributes.x]\npatern = 'x'",
    "[attributes.x]\ntype = 'boolean'\nmin = 1",
    "[attributes.x]\ntype = 'integer'\npattern = '[0-9]'",
    "[attributes.x]\ntype = 'string'\nequals = true",
    "[attributes.x]\ntype = 'array'",
    "[attributes.x]\ntype = 'array'\nitems = 'boolean'",
    "[attributes.x]\ntype = 'string'\nitems = 'string'",
    "[attributes.x]\nmax_length = 0",
    "[attributes.x]\nmin_length = 1.5",
    "[attributes.x]\ntype = 'boolean'\nequals = 'true'",
    "[attributes.x]\nrequired = ['signup']",
    "[attributes.x]\nrequired = 'registration'",
    "[attributes.x]\nreason = 'lower case'",
    "[attributes.x]\nnormalize = ['upper']",
    "[attributes.x]\none_of = []",
    "[attributes.x]\nwhen = { request_type = 'signup' }",
    "[attributes.x]\nwhen = { colour = 'blue' }",
    "[attributes.x]\nwhen = {}",
    "[attributes.x]\nwhen = { all = [] }",
    "[attributes.x]\nwhen = { request_type = 'registration', email_domain = ['a.com'] }",
    "[attributes.x]\nwhen = { attribute = 'y' }",
    "[attributes.x]\nwhen = 'registration'",
    "[attributes.x]\ntype = 'integer'\n[[attributes.x.rules]]\npattern = 'x'",
    "[attributes.x]\n[[attributes.x.rules]]\nmax_length = 2\ncolour = 'blue'",
    "[attributes.'bad name']\ntype = 'string'",
    "[network]\nblocks = ['10.0.0.0/8']",
    "[network]\nblocked = '10.0.0.0/8'",
    "[network]\nblocked = ['10.0.0.0/8']\nreason = 'blocked'",
    "[disposable_domains]\nallowed = ['a.com']",
    "[disposable_domains]\ndeny = 'yes'",
    "[domains]\nallow = ['example.com']",
    "[progressive]\nupdatable = ['bad name!']",
    "[set.userType]\nvalue = 'e'",
    "[set.userType]\nvalue = 'e'\non = []",
    "[derive.login]\nfrom = 'email'\non = ['registration']\nvalue = 'x'",
    "[messages]\nDENIED = ''",
    "[messages]\nlower = 'x'",
    "attributes = 3",
    "[lists.p]\nkind = 'codes'",
    "[lists.p]\nsource = 'gs://acme-lists/p'\nsecret = 'projects/acme-hook/secrets/n/versions/1'\nkind = 'codes'",
    "[lists.p]\nsource = 'gs://acme-lists/p'\nkind = 'colours'",
    "[lists.p]\nsource = 'gs://acme-lists/p'\nkind = 'codes'\nmax_shrink = 0",
    "[lists.p]\nsource = 'gs://acme-lists/p'\nkind = 'domains'\n[domains]\nallowed = { list = 'p', colour = 1 }",
    "[lists.p]\nsource = 'gs://acme-lists/p'\nkind = 'codes'\n[attributes.c]\n[attributes.x]\nwhen = { attribute = 'c', in = { list = 'p', fail_open = true } }",
    "[directory.hr]\nurl = 'https://hr.acme.example/{n}'",
    "[attributes.n]\n[directory.hr]\nurl = 'https://hr.acme.example/{n}'\non = ['registration']\ntimeout_seconds = 5",
    "[attributes.n]\n[directory.hr]\nurl = 'https://hr.acme.example/{n}'\non = ['registration']\nmethod = 'PUT'",
    "[attributes.n]\n[directory.hr]\nurl = 'https://hr.acme.example/{n}'\non = ['registration']\nfound_statuses = [302]",
]


@pytest.mark.parametrize("text", VALID)
def test_both_accept(text: str) -> None:
    assert loader_accepts(text)
    assert schema_accepts(tomllib.loads(text)), list(VALIDATOR.iter_errors(tomllib.loads(text)))


@pytest.mark.parametrize("text", INVALID)
def test_both_refuse(text: str) -> None:
    assert not loader_accepts(text)
    assert not schema_accepts(tomllib.loads(text))


# --- generated attribute tables: what the loader accepts, the schema accepts --------------

KEY_VALUES: dict[str, list[Any]] = {
    "type": ["string", "text", "boolean", "integer", "number", "array", "email", "float"],
    "items": ["string", "integer", "number", "boolean"],
    "required": [["registration"], ["progressive", "registration"], ["x"], "registration"],
    "reason": ["INVALID_ATTRIBUTE", "lower"],
    "normalize": [["trim"], ["lower", "nfc"], ["upper"]],
    "shadow": [True, False, "yes"],
    "min_length": [1, 0, 3, 2.5],
    "max_length": [1, 5, -1],
    "pattern": ["[0-9]+", "", "("],
    "one_of": [["a", "b"], [1, 2], [1.5], [], [True]],
    "equals": [True, False, 1],
    "min": [0, 18, 1.5, True],
    "max": [10, 120, -3.5],
    "min_items": [1, 2, 0],
    "max_items": [1, 5],
    "unique": [True, False, 1],
    "when": [{"request_type": "registration"}, {"request_type": "progressive"}, {"x": 1}],
    "required_when": [{"request_type": "registration"}, {"all": []}],
}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=st.dictionaries(
        st.sampled_from(sorted(KEY_VALUES)),
        st.integers(min_value=0, max_value=7),
        max_size=5,
    )
)
def test_what_the_loader_accepts_the_schema_accepts(table: dict[str, int]) -> None:
    attribute = {key: KEY_VALUES[key][pick % len(KEY_VALUES[key])] for key, pick in table.items()}
    document = {"attributes": {"x": attribute}}
    text = "[attributes.x]\n" + "".join(
        f"{key} = {_toml(value)}\n" for key, value in attribute.items()
    )
    assert tomllib.loads(text) == document
    loaded, valid = loader_accepts(text), schema_accepts(document)
    event(f"loader {loaded}, schema {valid}")
    if loaded:
        assert valid, (text, list(VALIDATOR.iter_errors(document)))


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)
