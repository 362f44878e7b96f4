"""deploy.sh and Okta: the inline hook it describes for each scheme, and the hook it creates,
updates or leaves alone with --create-okta-hook."""

from __future__ import annotations

import base64
import json

import pytest

from tests.deploy_support import (
    CLIENT_SECRET,
    CREDENTIALS,
    FUNCTION,
    ISSUER,
    OAUTH,
    OKTA_ENV,
    OKTA_ORG,
    OKTA_TOKEN,
    PASSWORD,
    PROJECT,
    REGION,
    SA_EMAIL,
    FakeCloud,
    Run,
    env_file,
    everything_recorded,
    ok,
    okta_calls,
    printed_body,
    refused,
)
from tests.jwt_support import public_jwk
from tools.okta_inline_hook import BASIC_PLACEHOLDER

Shared = tuple[FakeCloud, Run]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    """One basic deploy to a new project, read by the tests that only look at what it did."""
    shared = FakeCloud(tmp_path_factory.mktemp("first-run"))
    return shared, ok(shared.deploy_basic())


# --- what to tell Okta -------------------------------------------------------------------------


def test_basic_prints_an_http_channel_body_with_a_placeholder(first_run: Shared) -> None:
    cloud, run = first_run
    assert printed_body(run.stdout) == {
        "name": FUNCTION,
        "type": "com.okta.user.pre-registration",
        "version": "1.0.0",
        "channel": {
            "type": "HTTP",
            "version": "1.0.0",
            "config": {
                "uri": f"https://{FUNCTION}-x7k2q9-uc.a.run.app",
                "method": "POST",
                "authScheme": {
                    "type": "HEADER",
                    "key": "Authorization",
                    "value": BASIC_PLACEHOLDER,
                },
            },
        },
    }
    # The Okta set-up the default policy needs, derived from it.
    assert '    Inline hook: "okta-registration-hook"' in run.stdout
    assert "    Run this hook: Both" in run.stdout
    assert "  Security > User Profile Policies > the policy of your app > Enrollment:" in run.stdout
    assert "    employeeNumber (Employee number): Required, add it; asked at sign-up" in run.stdout
    assert (
        "  Directory > Profile Editor > User (default): User permission Read-Write for: "
        "employeeNumber"
    ) in run.stdout


def test_oauth_client_secret_sets_the_token_checks_and_no_secret(cloud: FakeCloud) -> None:
    run = ok(cloud.deploy("--project", PROJECT, *OAUTH, "--scopes", "hooks.registration"))
    assert env_file(cloud) == {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "WORKERS": "1",
        "OKTA_HOOK_POLICY": "policies/ssr_and_progressive.toml",
        "OKTA_HOOK_ISSUER": ISSUER,
        "OKTA_HOOK_AUDIENCE": "api://default",
        "OKTA_HOOK_SCOPES": "hooks.registration",
        "OKTA_HOOK_CLIENT_IDS": "0oa1hook",
        "OKTA_HOOK_JWKS_URI": f"{ISSUER}/v1/keys",
    }
    assert cloud.state()["secrets"] == {}
    assert [c for c in cloud.commands() if c[0] == "secrets"] == []
    assert printed_body(run.stdout)["channel"] == {
        "type": "OAUTH",
        "version": "1.0.0",
        "config": {
            "uri": f"https://{FUNCTION}-x7k2q9-uc.a.run.app",
            "method": "POST",
            "authType": "client_secret_post",
            "clientId": "0oa1hook",
            "tokenUrl": f"{ISSUER}/v1/token",
            "scope": "hooks.registration",
            "clientSecret": "<set in Okta: the client secret of the Okta app 0oa1hook>",
        },
    }


def test_oauth_private_key_prints_the_hook_key_id(cloud: FakeCloud) -> None:
    run = ok(
        cloud.deploy(
            "--project",
            PROJECT,
            "--auth",
            "oauth-private-key",
            "--issuer",
            ISSUER + "/",
            "--client-id",
            "0oa2key,0oa3old",
            "--scopes",
            "hooks.registration  hooks.other",
            "--hook-key-id",
            "HKY1key",
            "--audience",
            "api://hooks",
            "--token-url",
            "https://example.okta.com/oauth2/default/v1/token",
        )  # fmt: skip
    )
    env = env_file(cloud)
    assert (env["OKTA_HOOK_ISSUER"], env["OKTA_HOOK_AUDIENCE"]) == (ISSUER, "api://hooks")
    assert (env["OKTA_HOOK_SCOPES"], env["OKTA_HOOK_CLIENT_IDS"]) == (
        "hooks.registration hooks.other",
        "0oa2key,0oa3old",
    )
    config = printed_body(run.stdout)["channel"]["config"]
    assert config == {
        "uri": f"https://{FUNCTION}-x7k2q9-uc.a.run.app",
        "method": "POST",
        "authType": "private_key_jwt",
        "clientId": "0oa2key",
        "tokenUrl": f"{ISSUER}/v1/token",
        "scope": "hooks.registration hooks.other",
        "hookKeyId": "HKY1key",
    }


def test_a_pinned_jwks_is_a_secret_with_its_own_binding(cloud: FakeCloud) -> None:
    # A key the function can use: deploy reads the set with the function's own parser.
    key = public_jwk("pinned", "k1")
    jwks = json.dumps({"keys": [key]})
    path = cloud.write("jwks.json", jwks)
    run = ok(cloud.deploy("--project", PROJECT, *OAUTH, "--scopes", "s", "--jwks-file", str(path)))
    assert (
        "warning: a pinned key set (--jwks-file) stops working at the authorization server's next"
        in run.stdout
    )
    assert "Signing Key Rotation: Manual" in run.stdout
    env = env_file(cloud)
    assert "OKTA_HOOK_JWKS_URI" not in env
    assert env["OKTA_HOOK_JWKS_SECRET"] == (
        f"projects/{PROJECT}/secrets/{FUNCTION}-jwks/versions/latest"
    )
    secret = cloud.state()["secrets"][f"{FUNCTION}-jwks"]
    assert secret["versions"] == [jwks]
    assert secret["bindings"][0]["members"] == [f"serviceAccount:{SA_EMAIL}"]
    assert key["n"] not in everything_recorded(cloud)


# --- creating the hook in Okta -----------------------------------------------------------------


def test_create_okta_hook_sends_the_real_header_to_okta_only(cloud: FakeCloud) -> None:
    run = ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    [hook] = cloud.okta()["hooks"]
    assert hook["name"] == FUNCTION
    assert hook["channel"]["config"]["uri"] == f"https://{FUNCTION}-x7k2q9-uc.a.run.app"
    expected = "Basic " + base64.b64encode(CREDENTIALS.strip().encode()).decode()
    assert hook["channel"]["config"]["authScheme"] == {
        "type": "HEADER",
        "key": "Authorization",
        "value": expected,
    }
    assert "created in Okta" in run.stdout
    calls = cloud.curl_calls()
    assert okta_calls(cloud) == [
        "GET /api/v1/inlineHooks?type=com.okta.user.pre-registration",
        "POST /api/v1/inlineHooks",
        "POST /api/v1/inlineHooks/cal00000000000000001/execute",
        "POST /api/v1/inlineHooks/cal00000000000000001/execute",
    ]
    for call in calls:
        assert call["config"] == f'header = "Authorization: SSWS {OKTA_TOKEN}"\n'
    recorded = everything_recorded(cloud)
    for secret in (OKTA_TOKEN, PASSWORD, expected.split()[1]):
        assert secret not in recorded


def test_the_stored_credentials_are_sent_to_okta_when_no_file_is_given(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic())
    run = ok(
        cloud.deploy("--project", PROJECT, "--region", REGION, "--create-okta-hook", **OKTA_ENV)
    )
    [hook] = cloud.okta()["hooks"]
    expected = "Basic " + base64.b64encode(CREDENTIALS.strip().encode()).decode()
    assert hook["channel"]["config"]["authScheme"]["value"] == expected
    assert "created in Okta" in run.stdout
    assert PASSWORD not in everything_recorded(cloud)
    assert expected.split()[1] not in everything_recorded(cloud)


def test_create_okta_hook_twice_leaves_okta_alone(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    okta = cloud.okta()
    cloud.forget_calls()
    run = ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    assert [c for c in okta_calls(cloud) if not c.endswith("/execute")] == [
        "GET /api/v1/inlineHooks?type=com.okta.user.pre-registration"
    ]
    assert cloud.okta() == okta
    assert "already current in Okta (id cal00000000000000001)" in run.stdout
    assert "Nothing changed: everything was already up to date." in run.stdout


def test_a_hook_that_differs_is_replaced(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    okta = cloud.okta()
    okta["hooks"][0]["channel"]["config"]["uri"] = "https://old.example.com/hook"
    cloud.okta_state.write_text(json.dumps(okta))
    cloud.forget_calls()
    run = ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    [put] = [c for c in cloud.curl_calls() if "PUT" in c["argv"]]
    assert put["argv"][-1] == f"{OKTA_ORG}/api/v1/inlineHooks/cal00000000000000001"
    [hook] = cloud.okta()["hooks"]
    assert hook["channel"]["config"]["uri"] == f"https://{FUNCTION}-x7k2q9-uc.a.run.app"
    assert "updated in Okta (id cal00000000000000001)" in run.stdout


def test_okta_is_not_switched_to_credentials_instances_may_not_have(cloud: FakeCloud) -> None:
    ok(cloud.deploy_basic("--create-okta-hook", **OKTA_ENV))
    rotated = CREDENTIALS + "okta:next-pw-R2d4\n"
    cloud.forget_calls()
    run = ok(cloud.deploy_basic("--create-okta-hook", credentials=rotated, **OKTA_ENV))
    assert [c for c in okta_calls(cloud) if not c.endswith("/execute")] == [
        "GET /api/v1/inlineHooks?type=com.okta.user.pre-registration"
    ]
    assert "not updated: the credentials changed in this run" in run.stdout
    cloud.forget_calls()
    run = ok(
        cloud.deploy_basic(
            "--create-okta-hook", "--force-okta-update", credentials=rotated, **OKTA_ENV
        )
    )
    [hook] = cloud.okta()["hooks"]
    newest = "Basic " + base64.b64encode(b"okta:next-pw-R2d4").decode()
    assert hook["channel"]["config"]["authScheme"]["value"] == newest
    assert "next-pw-R2d4" not in everything_recorded(cloud)


def test_create_okta_hook_with_oauth_client_secret(cloud: FakeCloud) -> None:
    path = cloud.write("client-secret.txt", CLIENT_SECRET + "\n")
    args = ("--project", PROJECT, *OAUTH, "--scopes", "hooks.registration")
    run = ok(
        cloud.deploy(
            *args, "--okta-client-secret-file", str(path), "--create-okta-hook", **OKTA_ENV
        )
    )
    [hook] = cloud.okta()["hooks"]
    assert hook["channel"]["type"] == "OAUTH"
    assert hook["channel"]["config"]["clientSecret"] == CLIENT_SECRET
    assert CLIENT_SECRET not in everything_recorded(cloud)
    assert "created in Okta" in run.stdout


def test_dry_run_with_create_okta_hook_only_reads_okta(cloud: FakeCloud) -> None:
    run = ok(cloud.deploy_basic("--dry-run", "--create-okta-hook", **OKTA_ENV))
    assert okta_calls(cloud) == ["GET /api/v1/inlineHooks?type=com.okta.user.pre-registration"]
    assert cloud.okta().get("hooks", []) == []
    assert "[dry-run] curl " in run.stdout
    assert "--request POST" in run.stdout
    assert PASSWORD not in everything_recorded(cloud)


def test_okta_refusing_the_token_is_reported_without_it(cloud: FakeCloud) -> None:
    env = {**OKTA_ENV, "OKTA_API_TOKEN": "00wrong-token-Jx3"}
    refused(
        cloud.deploy_basic("--create-okta-hook", **env),
        "Okta answered HTTP 401 to the list of inline hooks: Invalid token provided",
    )
    assert "00wrong-token-Jx3" not in everything_recorded(cloud)
