"""deploy.sh stops before changing anything when an input is wrong."""

from __future__ import annotations

import json

import pytest

from tests.deploy_support import (
    BASIC_SECRET,
    ISSUER,
    OAUTH,
    OKTA_ENV,
    PASSWORD,
    PROJECT,
    FakeCloud,
    Run,
    changing,
    refused,
)

Shared = tuple[FakeCloud, Run]


# --- stops before changing anything ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no project: pass --project ID (or set GOOGLE_CLOUD_PROJECT)"),
        (("--project", "Bad_Project"), "--project Bad_Project is not a project id"),
        (
            ("--project", PROJECT, "--auth", "saml"),
            "--auth saml is not one of: basic, oauth-client-secret, oauth-private-key",
        ),
        (
            ("--project", PROJECT, "--auth", "oauth-client-secret", "--scopes", "s"),
            "--auth oauth-client-secret needs --issuer (the Okta authorization server)",
        ),
        (
            ("--project", PROJECT, *OAUTH),
            "--auth oauth-client-secret needs --scopes (the custom scope Okta requests)",
        ),
        (
            (
                "--project",
                PROJECT,
                "--auth",
                "oauth-private-key",
                "--issuer",
                ISSUER,
                "--scopes",
                "s",
            ),  # fmt: skip
            "--auth oauth-private-key needs --client-id (the Okta app's client id)",
        ),
        (
            (
                "--project",
                PROJECT,
                "--auth",
                "oauth-client-secret",
                "--issuer",
                "http://x.test",
                "--scopes",
                "s",
                "--client-id",
                "c",
            ),  # fmt: skip
            "--issuer http://x.test is not an https:// URL",
        ),
        (
            ("--project", PROJECT, "--issuer", ISSUER),
            "--issuer does not apply to --auth basic (only to: oauth-client-secret "
            "oauth-private-key)",
        ),
        (
            ("--project", PROJECT, *OAUTH, "--scopes", "s", "--hook-key-id", "HKY1"),
            "--hook-key-id does not apply to --auth oauth-client-secret "
            "(only to: oauth-private-key)",
        ),
        (
            ("--project", PROJECT, "--basic-credentials-file", "/nonexistent/basic.txt"),
            "--basic-credentials-file /nonexistent/basic.txt: no such readable file",
        ),
        (
            ("--project", PROJECT, "--create-okta-hook"),
            "--create-okta-hook needs OKTA_ORG_URL (https://example.okta.com)",
        ),
        (
            (
                "--project",
                PROJECT,
                "--auth",
                "oauth-private-key",
                "--issuer",
                ISSUER,
                "--scopes",
                "s",
                "--client-id",
                "c",
                "--create-okta-hook",
            ),  # fmt: skip
            "--create-okta-hook needs OKTA_ORG_URL (https://example.okta.com)",
        ),
        (
            ("--project", PROJECT, "--runtime", "python310"),
            "--runtime python310: the hook needs python311 or newer",
        ),  # fmt: skip
        (
            ("--project", PROJECT, "--cpu", "0.5"),
            "--concurrency above 1 needs --cpu 1 or more",
        ),
        (
            ("--project", PROJECT, "--timeout", "300"),
            "--timeout 300: Okta waits 3 seconds; use at most 60",
        ),  # fmt: skip
        (("--project", PROJECT, "--memory", "lots"), "--memory lots is not a size like 512Mi"),
        (
            ("--project", PROJECT, "--cpu", "9" * 23),
            f"--cpu {'9' * 23} is above 8, Cloud Run's limit",
        ),
        (
            ("--project", PROJECT, "--max-instances", "9" * 23),
            f"--max-instances {'9' * 23} is above 1000, Cloud Run's limit",
        ),
        (
            ("--project", PROJECT, "--min-instances", "1001", "--max-instances", "1001"),
            "--min-instances 1001 is above 1000, Cloud Run's limit",
        ),
        (
            ("--project", PROJECT, "--no-requests-hours", "\u0663"),
            "--no-requests-hours \u0663 is not a whole number",
        ),
        (
            ("--project", PROJECT, *OAUTH, "--scopes", "s", "--leeway-seconds", "301"),
            "the settings cannot be used, and the function would refuse every request: "
            "OKTA_HOOK_LEEWAY_SECONDS must be between 0 and 300",
        ),
        (("--project", PROJECT, "--nope"), "unknown option: --nope (see ./deploy.sh --help)"),
        (
            ("--project", PROJECT, "--public-access", "public"),
            "--public-access public is not one of: allusers, no-invoker-iam-check",
        ),
        (
            ("--project", PROJECT, *OAUTH, "--scopes", "hooks.registration okta.hook"),
            "--scopes okta.hook: Okta refuses a custom scope whose name starts with okta. (the "
            "prefix of its own API scopes); name it e.g. hooks.registration",
        ),
        (
            ("--project", PROJECT, "--auth", "hmac"),
            "--auth hmac: Okta signs hook tokens with RS256: the HMAC mode "
            "(OKTA_HOOK_JWT_HMAC_SECRET) is for local tests only, and deploy.sh does not deploy it",
        ),
        (("--project",), "--project needs a value"),
        (
            ("--project", PROJECT, "--policy", "/etc/passwd"),
            "--policy /etc/passwd must be a path inside the checkout",
        ),  # fmt: skip
        (
            ("--project", PROJECT, "--policy", "policies/none.toml"),
            "--policy policies/none.toml: no such file in the checkout",
        ),  # fmt: skip
    ],
)
def test_bad_input_stops_before_any_gcloud_call(
    cloud: FakeCloud, args: tuple[str, ...], message: str
) -> None:
    refused(cloud.deploy(*args), message)
    assert cloud.gcloud_calls() == []


@pytest.mark.parametrize("form", ["", "_SECRET", "_FILE"])
def test_the_hmac_mode_is_refused_in_any_form(cloud: FakeCloud, form: str) -> None:
    run = cloud.deploy_basic(**{f"OKTA_HOOK_JWT_HMAC_SECRET{form}": "x" * 40})
    refused(run, f"OKTA_HOOK_JWT_HMAC_SECRET{form} is set: Okta signs hook tokens with RS256")
    assert "x" * 40 not in run.output
    assert cloud.gcloud_calls() == []


def test_private_key_hook_needs_its_key_id_to_be_created(cloud: FakeCloud) -> None:
    args = ("--auth", "oauth-private-key", "--issuer", ISSUER, "--scopes", "s", "--client-id", "c")
    refused(
        cloud.deploy("--project", PROJECT, *args, "--create-okta-hook", **OKTA_ENV),
        "--create-okta-hook with --auth oauth-private-key needs --hook-key-id",
    )


def test_a_broken_policy_is_named_and_nothing_is_deployed(cloud: FakeCloud) -> None:
    (cloud.checkout / "policies" / "broken.toml").write_text("[domains\nallowed = 1\n")
    run = cloud.deploy_basic("--policy", "policies/broken.toml")
    refused(run, "the policy cannot be used, and the function would refuse every request: ")
    assert "policies/broken.toml:1: not valid TOML" in run.stderr
    assert cloud.gcloud_calls() == []


def test_a_policy_with_an_unknown_key_is_refused(cloud: FakeCloud) -> None:
    (cloud.checkout / "policies" / "typo.toml").write_text('[domain]\nallowed = ["a.com"]\n')
    run = cloud.deploy_basic("--policy", "policies/typo.toml")
    refused(run, "the policy cannot be used")
    assert "unknown key 'domain'" in run.stderr


def test_bad_allowed_domains_are_refused(cloud: FakeCloud) -> None:
    run = cloud.deploy_basic("--allowed-email-domains", "example.com,not a domain")
    refused(run, "the policy cannot be used")
    assert "'not a domain' is not a domain name" in run.stderr


def test_malformed_credentials_name_the_line_not_the_content(cloud: FakeCloud) -> None:
    run = cloud.deploy_basic(credentials=f"okta:{PASSWORD}\n{PASSWORD}-no-colon\n")
    refused(run, "--basic-credentials-file: line 2 is not user:password")
    assert PASSWORD not in run.output
    assert cloud.gcloud_calls() == []


def test_an_empty_secret_file_is_refused(cloud: FakeCloud) -> None:
    refused(cloud.deploy_basic(credentials="\n  \n"), "--basic-credentials-file ")
    assert "the file is empty" in cloud.runs[-1].stderr


def test_basic_without_credentials_needs_a_stored_secret(cloud: FakeCloud) -> None:
    run = cloud.deploy("--project", PROJECT)
    refused(
        run,
        f"secret {BASIC_SECRET} holds no value yet: give one with --basic-credentials-file",
    )
    assert changing(cloud.commands()) == []


def test_a_package_left_out_of_the_upload_stops_the_deploy(cloud: FakeCloud) -> None:
    (cloud.checkout / "extra").mkdir()
    (cloud.checkout / "extra" / "__init__.py").write_text("")
    refused(
        cloud.deploy_basic(),
        "package extra/ would not be uploaded: add !/extra/ to .gcloudignore",
    )
    assert changing(cloud.commands()) == []


def test_without_a_gcloud_account_nothing_happens(cloud: FakeCloud) -> None:
    state = cloud.state()
    state["account"] = ""
    cloud.gcloud_state.write_text(json.dumps(state))
    refused(cloud.deploy_basic(), "gcloud has no active account: run gcloud auth login")
    assert changing(cloud.commands()) == []
