"""How deploy reaches Okta's API, checked before anything runs: the org, and an API token or an
OAuth 2.0 service app (its private key is read from a file, with the other secrets)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field

from tools.deploy.checks import https_url
from tools.deploy.options import Options
from tools.deploy.output import Refused

API_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")
CLIENT_ID = re.compile(r"[A-Za-z0-9._~-]+")
# A plan runs without an org: its calls are printed against this.
PLAN_ORG = "https://<your-org>.okta.com"


@dataclass(frozen=True)
class OktaAccess:
    """Where Okta's API is, and how deploy signs in to it: the API token (OKTA_API_TOKEN only),
    or a service app's client id (its private key is read from a file, with the secrets)."""

    org_url: str
    api_token: str = field(default="", repr=False)
    client_id: str = ""
    key_id: str = ""

    @property
    def how(self) -> str:
        if self.client_id:
            return f"OAuth 2.0 service app {self.client_id} (private_key_jwt)"
        return "API token (OKTA_API_TOKEN)" if self.api_token else "no credentials (plan)"


def okta_access(o: Options, env: Mapping[str, str]) -> OktaAccess | None:
    """For --create-okta-hook: the org and the credential, checked; raises `Refused`. A plan
    needs neither: it prints the calls against the org given, or a placeholder."""
    if not o.create_okta_hook:
        for name, flag in (
            ("okta_client_secret_file", "--okta-client-secret-file is only sent to Okta"),
            ("force_okta_update", "--force-okta-update goes"),
            ("okta_policy", "--okta-policy goes"),
            ("skip_okta_verify", "--skip-okta-verify goes"),
            ("okta_api_client_id", "--okta-api-client-id goes"),
            ("okta_api_private_key_file", "--okta-api-private-key-file goes"),
        ):
            if getattr(o, name):
                raise Refused(f"{flag} with --create-okta-hook")
        return None
    org_url = env.get("OKTA_ORG_URL", "")
    if not org_url and not o.plan:
        raise Refused("--create-okta-hook needs OKTA_ORG_URL (https://example.okta.com)")
    if org_url:
        https_url("OKTA_ORG_URL", org_url)
    token = env.get("OKTA_API_TOKEN", "")
    if o.okta_api_client_id or o.okta_api_private_key_file:
        if token:
            raise Refused("give OKTA_API_TOKEN or --okta-api-client-id, not both")
        if not (o.okta_api_client_id and o.okta_api_private_key_file):
            raise Refused("--okta-api-client-id and --okta-api-private-key-file go together")
        if not CLIENT_ID.fullmatch(o.okta_api_client_id):
            raise Refused(f"--okta-api-client-id {o.okta_api_client_id} is not a client id")
    elif token:
        if not API_TOKEN.fullmatch(token):
            raise Refused("OKTA_API_TOKEN has characters a token cannot have")
    elif not o.plan:
        raise Refused(
            "--create-okta-hook needs OKTA_API_TOKEN (an Okta API token), or an OAuth 2.0 "
            "service app: --okta-api-client-id and --okta-api-private-key-file"
        )
    missing = ""
    if o.auth == "oauth-client-secret" and not o.okta_client_secret_file:
        missing = "--okta-client-secret-file"
    if o.auth == "oauth-private-key" and not o.hook_key_id:
        missing = "--hook-key-id"
    if missing and not o.plan:
        raise Refused(f"--create-okta-hook with --auth {o.auth} needs {missing}")
    if not o.plan and shutil.which("curl") is None:
        raise Refused("curl is needed for --create-okta-hook")
    return OktaAccess(
        (org_url or PLAN_ORG).removesuffix("/"),
        token,
        o.okta_api_client_id,
        o.okta_api_key_id,
    )
