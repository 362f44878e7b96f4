"""deploy.sh --create-okta-hook against fake curl: the hook kept current and active, attached to
a user profile policy, checked end to end through Okta's execute; Okta's API reached with an API
token or a service app's private key; every body checked against Okta's published schemas."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from tests.deploy_support import (
    CLIENT_SECRET,
    CREDENTIALS,
    FUNCTION,
    HOOK_CLIENT_ID,
    HOOK_SCOPE,
    ISSUER,
    OKTA_ORG,
    OKTA_TOKEN,
    PASSWORD,
    POLICY_ID,
    PROJECT,
    RULE_ID,
    FakeCloud,
    everything_recorded,
    hook_target,
    ok,
    okta_calls,
    refused,
)
from tests.jwt_support import rsa_key
from tests.okta_schema_check import problems
from tests.server_support import Served

OKTA_ENV = {"OKTA_ORG_URL": OKTA_ORG, "OKTA_API_TOKEN": OKTA_TOKEN}
HOOK_URL = f"https://{FUNCTION}-x7k2q9-uc.a.run.app"
LISTING = "GET /api/v1/inlineHooks?type=com.okta.user.pre-registration"
POLICY_NAME = "SSR + PP Inline Hook"
PRIVATE_KEY_ARGS = (
    "--auth", "oauth-private-key", "--issuer", ISSUER, "--client-id", HOOK_CLIENT_ID,
    "--scopes", HOOK_SCOPE, "--hook-key-id", "HKY1hookkey",
)  # fmt: skip
SERVICE_APP = "0oa9deployapp"
# What each call sends, as Okta's spec names the schema of its body.
SCHEMA_OF = {
    "POST /api/v1/inlineHooks": "InlineHookCreate",
    "PUT /api/v1/inlineHooks/": "InlineHookReplace",
    "PUT /api/v1/policies/": "PolicyRule",
}


def schema_of(call: str) -> str:
    if call.endswith("/execute"):
        return "RegistrationInlineHookRequest"
    return next(root for prefix, root in SCHEMA_OF.items() if call.startswith(prefix))


def assert_bodies_conform(cloud: FakeCloud) -> int:
    """Every JSON body sent to Okta, against its schema in Okta's spec, closed-world."""
    bodies = cloud.okta_bodies()
    for call, body in bodies:
        assert problems(body, schema_of(call)) == [], call
    return len(bodies)


def okta_hook(**config: Any) -> dict[str, Any]:
    """The hook as someone made it in the Admin Console, as Okta lists it."""
    return {
        "id": "calConsole0000000001",
        "status": "ACTIVE",
        "name": FUNCTION,
        "type": "com.okta.user.pre-registration",
        "version": "1.0.0",
        "channel": {
            "type": "HTTP",
            "version": "1.0.0",
            "config": {
                "uri": HOOK_URL,
                "method": "POST",
                "authScheme": {
                    "type": "HEADER",
                    "key": "authorization",
                    "value": "Basic " + base64.b64encode(CREDENTIALS.strip().encode()).decode(),
                },
                **config,
            },
        },
    }


def rule(cloud: FakeCloud, policy_id: str = POLICY_ID) -> dict[str, Any]:
    found: list[dict[str, Any]] = cloud.okta()["rules"][policy_id]
    assert len(found) == 1
    return found[0]


# --- the hook ------------------------------------------------------------------------------------


def test_a_hook_made_in_the_admin_console_is_current_on_a_second_deploy(cloud: FakeCloud) -> None:
    cloud.set_okta(hooks=[okta_hook()])
    run = ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    assert "already current in Okta (id calConsole0000000001)" in run.stdout
    assert [c for c in okta_calls(cloud) if not c.endswith("/execute")] == [LISTING]


def test_a_replaced_hook_is_sent_without_its_type(cloud: FakeCloud) -> None:
    cloud.set_okta(hooks=[okta_hook(uri="https://old.example.com/hook")])
    ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    [(call, body)] = [b for b in cloud.okta_bodies() if b[0].startswith("PUT")]
    assert call == "PUT /api/v1/inlineHooks/calConsole0000000001"
    assert "type" not in body
    assert problems(body, "InlineHookReplace") == []
    [hook] = cloud.okta()["hooks"]
    assert hook["channel"]["config"]["uri"] == HOOK_URL
    assert hook["type"] == "com.okta.user.pre-registration"


def test_an_inactive_hook_is_activated(cloud: FakeCloud) -> None:
    cloud.set_okta(hooks=[{**okta_hook(), "status": "INACTIVE"}])
    run = ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    assert "POST /api/v1/inlineHooks/calConsole0000000001/lifecycle/activate" in okta_calls(cloud)
    assert "activated in Okta (id calConsole0000000001)" in run.stdout
    assert cloud.okta()["hooks"][0]["status"] == "ACTIVE"
    # A new project's 6, monitoring/'s 12, and the activation.
    assert "Done: 19 change(s) made." in run.stdout


# --- the user profile policy -------------------------------------------------------------------


def test_okta_policy_attaches_the_hook_with_what_the_policy_needs(cloud: FakeCloud) -> None:
    before = rule(cloud)
    run = ok(cloud.deploy_basic("--create-okta-hook", "--okta-policy", POLICY_NAME, **OKTA_ENV))
    after = rule(cloud)
    enrollment = after["actions"]["profileEnrollment"]
    assert enrollment["preRegistrationInlineHooks"] == [{"inlineHookId": "cal00000000000000001"}]
    assert enrollment["unknownUserAction"] == "REGISTER"
    assert enrollment["progressiveProfilingAction"] == "ENABLED"
    assert enrollment["profileAttributes"] == [
        *before["actions"]["profileEnrollment"]["profileAttributes"],
        {"name": "employeeNumber", "label": "Employee number", "required": True},
    ]
    assert enrollment["uiSchemaId"] == before["actions"]["profileEnrollment"]["uiSchemaId"]
    assert (after["id"], after["name"]) == (RULE_ID, before["name"])
    # The change is shown, then made.
    shown = run.stdout.index(f'user profile policy "{POLICY_NAME}" ({POLICY_ID})')
    made = run.stdout.index("--request PUT")
    assert shown < made
    for line in (
        "  inline hook: none -> cal00000000000000001",
        "  self-service registration: DENY -> REGISTER (Allowed)",
        "  progressive profiling: DISABLED -> ENABLED",
        "  form input employeeNumber (Employee number): added, required",
    ):
        assert line in run.stdout
    # What the Policies API cannot set is left to the Admin Console, said so.
    assert "Left to do in the Admin Console (Okta's Policies API does not set these):" in run.stdout
    assert "    Run this hook: Both" in run.stdout
    # The other policy is untouched.
    assert (
        rule(cloud, "rst0default0pol1d7")["actions"]["profileEnrollment"][
            "preRegistrationInlineHooks"
        ]
        is None
    )


def test_a_second_attach_changes_nothing(cloud: FakeCloud) -> None:
    args = ("--create-okta-hook", "--okta-policy", POLICY_NAME)
    ok(cloud.deploy_basic(*args, **OKTA_ENV))
    before = cloud.okta()
    cloud.forget_calls()
    run = ok(cloud.deploy_basic(*args, **OKTA_ENV))
    assert not [c for c in okta_calls(cloud) if c.startswith("PUT")]
    assert cloud.okta()["rules"] == before["rules"]
    assert "already runs this hook with the form inputs the policy needs" in run.stdout
    assert "Nothing changed: everything was already up to date." in run.stdout


def test_an_input_already_required_is_kept_and_an_optional_one_made_required(
    cloud: FakeCloud,
) -> None:
    state = cloud.okta()
    attributes = state["rules"][POLICY_ID][0]["actions"]["profileEnrollment"]["profileAttributes"]
    attributes.append({"name": "employeeNumber", "label": "Staff no.", "required": False})
    cloud.set_okta(rules=state["rules"])
    run = ok(cloud.deploy_basic("--create-okta-hook", "--okta-policy", POLICY_NAME, **OKTA_ENV))
    inputs = rule(cloud)["actions"]["profileEnrollment"]["profileAttributes"]
    assert inputs[-1] == {"name": "employeeNumber", "label": "Staff no.", "required": True}
    assert len(inputs) == 4
    assert "  form input employeeNumber: optional -> required" in run.stdout


def test_an_unknown_policy_is_refused_naming_those_there(cloud: FakeCloud) -> None:
    run = cloud.deploy_basic("--create-okta-hook", "--okta-policy", "SSR", **OKTA_ENV)
    refused(
        run,
        "Okta has no user profile policies named 'SSR' (those whose name starts so: "
        "SSR + PP Inline Hook)",
    )


def test_a_dry_run_reads_the_policy_and_shows_the_change_only(cloud: FakeCloud) -> None:
    before = cloud.okta()
    run = ok(
        cloud.deploy_basic(
            "--dry-run", "--create-okta-hook", "--okta-policy", POLICY_NAME, **OKTA_ENV
        )
    )
    assert cloud.okta()["rules"] == before["rules"]
    assert cloud.okta()["hooks"] == []
    assert okta_calls(cloud) == [
        LISTING,
        "GET /api/v1/policies?type=PROFILE_ENROLLMENT&q=SSR%20%2B%20PP%20Inline%20Hook",
        f"GET /api/v1/policies/{POLICY_ID}/rules",
    ]
    assert "  inline hook: none -> <the new hook's id>" in run.stdout
    assert "[dry-run] curl " in run.stdout
    body = run.stdout.split("body (the rule as read from Okta, with the changes above):\n")[1]
    printed = json.loads(body[: body.index("\n}\n") + 2])
    assert problems(printed, "PolicyRule") == []
    assert "Dry run: 20 change(s) would be made; nothing was changed." in run.stdout


# --- the check through Okta --------------------------------------------------------------------

# The default policy has a case file: the check sends its first allowed and first denied case.
ALLOWED_CASE = (
    "case 'an example.com address and four digits register' of ssr_and_progressive.cases.toml"
)
DENIED_CASE = "case 'every failing field has its cause' of ssr_and_progressive.cases.toml"


def test_the_hook_is_checked_through_okta_with_an_allowed_and_a_denied_request(
    cloud: FakeCloud, deploy_target: Served
) -> None:
    run = ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    assert f"execute: {ALLOWED_CASE}: ALLOW, as the policy decides" in run.stdout
    assert (
        f"execute: {DENIED_CASE}: DENY "
        "(email: INVALID_EMAIL_DOMAIN; employeeNumber: INVALID_EMPLOYEE_NUMBER), as the policy decides"
    ) in run.stdout
    # Each went through the served function, as Okta calls it, with a fresh eventId.
    executes = [b for c, b in cloud.okta_bodies() if c.endswith("/execute")]
    assert len(executes) == 2
    assert len({b["eventId"] for b in executes}) == 2
    log = deploy_target.log()
    for body in executes:
        assert body["eventId"] in log


def test_a_hook_that_answers_otherwise_than_the_policy_stops_the_deploy(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The function behind the URL runs another policy, one that allows every sign-up.
    other_policy = tmp_path_factory.mktemp("other-policy") / "allow-all.toml"
    other_policy.write_text('[messages]\nDENIED = "No."\n')
    with hook_target(other_policy.parent, str(other_policy)) as other:
        cloud = FakeCloud(tmp_path)
        cloud.execute_url = other.url
        run = cloud.deploy_basic("--create-okta-hook", **OKTA_ENV)
    refused(
        run,
        f"the deployed hook answered otherwise than the policy decides for: {DENIED_CASE} "
        "(is the function deployed with this policy?)",
    )
    assert f"execute: {DENIED_CASE}: ALLOW, but the policy says DENY" in run.stdout


def test_a_hook_okta_cannot_reach_is_reported(tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)  # no function behind the URL
    refused(
        cloud.deploy_basic("--create-okta-hook", **OKTA_ENV),
        f"Okta answered HTTP 400 to the execute of {ALLOWED_CASE}: Failed to call the "
        "external service.; no hook to reach",
    )


def test_the_check_can_be_skipped(tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)
    ok(cloud.deploy_basic("--create-okta-hook", "--skip-okta-verify", **OKTA_ENV))
    assert not [c for c in okta_calls(cloud) if c.endswith("/execute")]


def test_an_oauth_hook_is_checked_too_and_every_body_conforms(cloud: FakeCloud) -> None:
    path = cloud.write("client-secret.txt", CLIENT_SECRET)
    args = ("--auth", "oauth-client-secret", "--issuer", ISSUER, "--client-id", HOOK_CLIENT_ID)
    run = ok(
        cloud.deploy(
            "--project",
            PROJECT,
            *args,
            "--scopes",
            HOOK_SCOPE,
            "--okta-client-secret-file",
            str(path),
            "--create-okta-hook",
            "--okta-policy",
            POLICY_NAME,
            **OKTA_ENV,
        )  # fmt: skip
    )
    assert f"execute: {ALLOWED_CASE}: ALLOW, as the policy decides" in run.stdout
    assert assert_bodies_conform(cloud) == 4  # the hook, the rule, two executes
    assert CLIENT_SECRET not in everything_recorded(cloud)


def test_every_body_of_a_private_key_hook_and_its_replacement_conforms(cloud: FakeCloud) -> None:
    ok(cloud.deploy("--project", PROJECT, *PRIVATE_KEY_ARGS, "--create-okta-hook", **OKTA_ENV))
    ok(
        cloud.deploy(
            "--project",
            PROJECT,
            *PRIVATE_KEY_ARGS,
            "--create-okta-hook",
            "--force-okta-update",
            **OKTA_ENV,
        )  # fmt: skip
    )
    calls = okta_calls(cloud)
    assert "POST /api/v1/inlineHooks" in calls
    assert "PUT /api/v1/inlineHooks/cal00000000000000001" in calls
    assert assert_bodies_conform(cloud) == 6


# --- Okta's API with a service app --------------------------------------------------------------


def service_app(cloud: FakeCloud, *, key_format: str = "pem", **app: Any) -> tuple[str, ...]:
    """A service app in the org, its private key in a file; deploy's arguments for it."""
    scopes = ["okta.inlineHooks.manage", "okta.policies.manage"]
    cloud.set_okta(service_app={"client_id": SERVICE_APP, "scopes": scopes, **app})
    key = rsa_key("service-app")
    if key_format == "pem":
        text = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    else:
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
        text = json.dumps({**jwk, "kid": "deploy-key-1", "alg": "RS256", "use": "sig"})
    path = cloud.write(f"service-app.{key_format}", text)
    return ("--okta-api-client-id", SERVICE_APP, "--okta-api-private-key-file", str(path))


def assertion_claims(cloud: FakeCloud) -> tuple[dict[str, Any], dict[str, Any]]:
    """The client assertion Okta got: its header, and its claims once its signature checks."""
    [assertion] = cloud.okta()["assertions"]
    claims = jwt.decode(
        assertion,
        rsa_key("service-app").public_key(),
        algorithms=["RS256"],
        audience=f"{OKTA_ORG}/oauth2/v1/token",
    )
    return jwt.get_unverified_header(assertion), claims


@pytest.mark.parametrize("key_format", ["pem", "jwk"])
def test_a_service_app_signs_in_with_its_private_key(cloud: FakeCloud, key_format: str) -> None:
    args = service_app(cloud, key_format=key_format)
    run = ok(
        cloud.deploy_basic(
            "--create-okta-hook", "--okta-policy", POLICY_NAME, *args, OKTA_ORG_URL=OKTA_ORG
        )
    )
    assert f"signed in with: OAuth 2.0 service app {SERVICE_APP} (private_key_jwt)" in run.stdout
    header, claims = assertion_claims(cloud)
    assert header["alg"] == "RS256"
    assert header.get("kid") == ("deploy-key-1" if key_format == "jwk" else None)
    assert claims["iss"] == claims["sub"] == SERVICE_APP
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert claims["jti"]
    calls = cloud.curl_calls()
    token = calls[0]
    assert okta_calls(cloud)[0] == "POST /oauth2/v1/token"
    assert token["config"] == ""
    assert "--config" not in token["argv"]
    form = dict(p.split("=", 1) for p in token["body"].split("&"))
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "okta.inlineHooks.manage+okta.policies.manage"
    [issued] = cloud.okta()["access_tokens"]
    for call in calls[1:]:
        assert call["config"] == f'header = "Authorization: Bearer {issued}"\n'
    assert rule(cloud)["actions"]["profileEnrollment"]["preRegistrationInlineHooks"]
    key_file = Path(args[-1]).read_text()
    private = json.loads(key_file)["d"] if key_format == "jwk" else key_file.splitlines()[1]
    recorded = everything_recorded(cloud)
    for secret in (issued, private, PASSWORD):
        assert secret not in recorded


def test_without_okta_policy_the_service_app_asks_for_the_hook_scope_only(
    cloud: FakeCloud,
) -> None:
    args = service_app(cloud)
    ok(cloud.deploy_basic("--create-okta-hook", *args, OKTA_ORG_URL=OKTA_ORG))
    form = dict(p.split("=", 1) for p in cloud.curl_calls()[0]["body"].split("&"))
    assert form["scope"] == "okta.inlineHooks.manage"


def test_a_service_app_that_requires_dpop_is_explained(cloud: FakeCloud) -> None:
    args = service_app(cloud, dpop=True)
    refused(
        cloud.deploy_basic("--create-okta-hook", *args, OKTA_ORG_URL=OKTA_ORG),
        f"the service app {SERVICE_APP} requires DPoP, which deploy.sh does not send",
    )
    assert "Require Demonstrating Proof of Possession (DPoP)" in cloud.runs[-1].stderr


def test_a_service_app_without_the_policy_scope_is_refused_with_okta_s_words(
    cloud: FakeCloud,
) -> None:
    args = service_app(cloud, scopes=["okta.inlineHooks.manage"])
    refused(
        cloud.deploy_basic("--create-okta-hook", "--okta-policy", POLICY_NAME, *args,
                           OKTA_ORG_URL=OKTA_ORG),
        f"Okta answered HTTP 400 to the token request of {SERVICE_APP}: invalid_scope: The "
        "requested scope is invalid.",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ("--okta-api-client-id", SERVICE_APP, "--okta-api-private-key-file", "k.pem"),
            OKTA_ENV,
            "give OKTA_API_TOKEN or --okta-api-client-id, not both",
        ),
        (
            ("--okta-api-client-id", SERVICE_APP),
            {"OKTA_ORG_URL": OKTA_ORG},
            "--okta-api-client-id and --okta-api-private-key-file go together",
        ),
        (
            (),
            {"OKTA_ORG_URL": OKTA_ORG},
            "--create-okta-hook needs OKTA_API_TOKEN (an Okta API token), or an OAuth 2.0 "
            "service app: --okta-api-client-id and --okta-api-private-key-file",
        ),
    ],
)
def test_management_credentials_that_cannot_work(
    cloud: FakeCloud, args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    refused(cloud.deploy_basic("--create-okta-hook", *args, **env), message)
    assert cloud.gcloud_calls() == []


def test_a_private_key_file_that_holds_no_private_key_is_refused(cloud: FakeCloud) -> None:
    public = (
        rsa_key("service-app")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    path = cloud.write("public.pem", public.decode())
    run = cloud.deploy_basic(
        "--create-okta-hook", "--okta-api-client-id", SERVICE_APP,
        "--okta-api-private-key-file", str(path), OKTA_ORG_URL=OKTA_ORG,
    )  # fmt: skip
    refused(run, "--okta-api-private-key-file: not an unencrypted PEM private key, nor a JWK")
    assert cloud.gcloud_calls() == []


@pytest.mark.parametrize("option", ["--okta-policy", "--okta-api-client-id"])
def test_okta_options_go_with_create_okta_hook(cloud: FakeCloud, option: str) -> None:
    refused(cloud.deploy_basic(option, "x"), f"{option} goes with --create-okta-hook")
