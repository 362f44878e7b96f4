"""`./deploy.sh --help`: every option, its environment variable and its default."""

USAGE = r"""Usage: ./deploy.sh --project ID [options]

Deploys this checkout as a 2nd-gen Cloud Function that Okta calls as its registration inline
hook, then prints the function URL, the JSON body for Okta's POST /api/v1/inlineHooks and the
Okta set-up the policy needs (form inputs, attribute permissions, the user profile policy's
settings). With --create-okta-hook it does the Okta side too (docs/deploy.md).

It first checks the configuration with the function's own code (the environment the function
will get, the policy, the secret values), then enables the APIs it needs, creates the function's
own service account and its secrets when missing, stores secret values in Secret Manager (a new
version only when the value changed), grants the service account
roles/secretmanager.secretAccessor on those secrets only, grants it read access to exactly the
list objects and secrets the policy names, deploys only when the source or the settings
changed, and creates or updates the log-based metrics, alert policies and dashboard of
monitoring/. A second run with the same inputs changes nothing and says so. Every gcloud and
curl command is printed as it runs.

Secret values are read from files or standard input ("-"), never from arguments, and are never
printed or written to the env-vars file: the function reads them from Secret Manager itself
(NAME_SECRET=projects/P/secrets/S/versions/latest), so a new version is picked up without a
redeploy. A trailing newline in a secret file is dropped.

Each option can also be given by the environment variable in brackets; options win.

Where and what:
  --project ID                 Google Cloud project (required) [GOOGLE_CLOUD_PROJECT]
  --region REGION              region of the function [DEPLOY_REGION] (us-central1)
  --function NAME              function name; also the prefix of its secrets' names
                               [DEPLOY_FUNCTION] (okta-registration-hook)
  --service-account ID         account id of the runtime service account, created if missing
                               [DEPLOY_SERVICE_ACCOUNT] (the function name)
  --runtime RUNTIME            Python runtime, python311 or newer [DEPLOY_RUNTIME] (python312)
  --build-service-account EMAIL
                               service account for the build, when the project's default
                               cannot build [DEPLOY_BUILD_SERVICE_ACCOUNT] (the default)

How the function runs:
  --public-access MODE         allusers | no-invoker-iam-check [DEPLOY_PUBLIC_ACCESS] (allusers):
                               how Okta gets past Cloud Run's invoker check. allusers grants
                               roles/run.invoker to allUsers (--allow-unauthenticated);
                               no-invoker-iam-check turns the check off on the function's Cloud
                               Run service instead, for an organization policy that forbids
                               allUsers (domain-restricted sharing). Needs a gcloud that has
                               gcloud run services update --no-invoker-iam-check.
  --min-instances N            instances kept warm: a cold start eats into Okta's 3 seconds
                               [DEPLOY_MIN_INSTANCES] (1)
  --max-instances N            upper bound on instances [DEPLOY_MAX_INSTANCES] (10)
  --memory SIZE                memory per instance, e.g. 512Mi, 1Gi [DEPLOY_MEMORY] (512Mi)
  --cpu N                      CPUs per instance, e.g. 1, 2, 0.5 [DEPLOY_CPU] (1)
  --concurrency N              requests served at once by one instance [DEPLOY_CONCURRENCY] (80:
                               measured in bench/RESULTS.md, see docs/deploy.md)
  --timeout SECONDS            request timeout; Okta gives up after 3 s [DEPLOY_TIMEOUT] (5)
                               WORKERS is set to the whole CPUs (at least 1): one process, with
                               its own event loop, per core, since Python runs one thread at a
                               time; below 1 CPU, concurrency must be 1.
                               When the policy's lists need more memory than --memory (their
                               max_bytes, or their objects' sizes), deploy says so and what to
                               give (docs/outside_data.md).
  --debug-context              answers carry a debugContext for Okta's System Log (reason codes,
                               event id, policy digest and version, latency; never a value):
                               sets OKTA_HOOK_DEBUG_CONTEXT=true [DEPLOY_DEBUG_CONTEXT=1]

How Okta authenticates (the function refuses every other caller):
  --auth MODE                  basic | oauth-client-secret | oauth-private-key [DEPLOY_AUTH]
                               (basic)
  basic:
  --basic-credentials-file PATH|-
                               user:password lines (every line is accepted; Okta is given the
                               last one). May be left out once the secret holds a version.
                               [DEPLOY_BASIC_CREDENTIALS_FILE]
  oauth-client-secret and oauth-private-key (Okta gets a token from an Okta authorization
  server and sends it as Bearer; the function checks it):
  --issuer URL                 the authorization server, e.g.
                               https://example.okta.com/oauth2/default [OKTA_HOOK_ISSUER]
  --audience AUD               expected audience [OKTA_HOOK_AUDIENCE] (api://default)
  --scopes "S1 S2"             scopes the token must carry; Okta requests them [OKTA_HOOK_SCOPES]
                               (custom scopes: Okta refuses names that start with okta.)
  --client-id ID               client id of the Okta app the hook uses (a comma-separated list
                               is accepted by the function; Okta is given the first)
                               [OKTA_HOOK_CLIENT_IDS]
  --jwks-uri URL               where the signing keys are [OKTA_HOOK_JWKS_URI]
                               (ISSUER/v1/keys unless --jwks-file is given)
  --jwks-file PATH|-           pinned JWKS JSON instead of fetching keys (a secret)
                               [DEPLOY_JWKS_FILE]. Okta rotates its keys about four times a
                               year, which breaks a pinned set: only with the authorization
                               server's Signing Key Rotation set to Manual.
  --leeway-seconds N           clock skew allowed [OKTA_HOOK_LEEWAY_SECONDS] (the function's)
  --token-url URL              Okta's token endpoint [DEPLOY_TOKEN_URL] (ISSUER/v1/token)
  oauth-client-secret:
  --okta-client-secret-file PATH|-
                               the Okta app's client secret; sent to Okta only, with
                               --create-okta-hook [DEPLOY_OKTA_CLIENT_SECRET_FILE]
  oauth-private-key:
  --hook-key-id ID             id of the key in Okta's Workflow > Key Management
                               [DEPLOY_HOOK_KEY_ID]

Decisions and secrets:
  --policy PATH                policy file, relative to the checkout [OKTA_HOOK_POLICY]
                               (policies/ssr_and_progressive.toml)
  --allowed-email-domains LIST comma-separated; replaces the policy's [domains] allowed
                               [OKTA_HOOK_ALLOWED_EMAIL_DOMAINS]
  --secret-refresh-seconds N   how often the function re-reads its secrets
                               [OKTA_HOOK_SECRET_REFRESH_SECONDS] (the function's: 300)

Monitoring (log-based metrics, alert policies, a dashboard: monitoring/):
  --notification-channel NAME  where alerts go: projects/PROJECT/notificationChannels/ID; give
                               it once per channel [DEPLOY_NOTIFICATION_CHANNELS, comma-separated]
                               (none: incidents open in the console only)
  --no-requests-hours N        also alert when no request came for N hours (1 to 23)
                               [DEPLOY_NO_REQUESTS_HOURS] (no such alert)
  --no-monitoring              create no metric, alert or dashboard, and enable neither the
                               logging nor the monitoring API [DEPLOY_NO_MONITORING=1]

Okta:
  --okta-hook-name NAME        name of the inline hook in Okta [DEPLOY_HOOK_NAME]
                               (the function name)
  --create-okta-hook           create the inline hook in Okta, or update it when it differs,
                               activate it when inactive, then check it through Okta (execute);
                               needs OKTA_ORG_URL (https://example.okta.com) and a credential:
                               OKTA_API_TOKEN (an API token, sent in a header read from standard
                               input), or --okta-api-client-id with --okta-api-private-key-file
                               [DEPLOY_CREATE_OKTA_HOOK=1]
  --okta-policy NAME           with --create-okta-hook: attach the hook to this user profile
                               policy (Security > User Profile Policies), with the sign-up,
                               progressive profiling and form inputs the policy needs; the
                               change is shown before it is made [DEPLOY_OKTA_POLICY]
  --okta-api-client-id ID      an OAuth 2.0 service app (API Services) to call Okta's API with,
                               instead of an API token: private_key_jwt, granted the scopes
                               okta.inlineHooks.manage (and okta.policies.manage for
                               --okta-policy) [OKTA_API_CLIENT_ID]
  --okta-api-private-key-file PATH|-
                               that app's private key: PEM, or the JWK the Admin Console
                               generates; read from the file only [OKTA_API_PRIVATE_KEY_FILE]
  --okta-api-key-id KID        the key's kid, when the JWK carries none [OKTA_API_KEY_ID]
  --force-okta-update          update the Okta hook even when it looks current (Okta never
                               shows its secret back, so a changed secret cannot be seen)
  --skip-okta-verify           do not send the two test requests through Okta (execute)
                               [DEPLOY_SKIP_OKTA_VERIFY=1]

Runs:
  --plan                       print what a first deploy runs, with no gcloud, no credentials
                               and no network: every command, the function's environment and
                               the Okta calls and bodies (placeholders for secrets); exit 0
  --dry-run                    print every command; run only the read-only ones (gcloud must be
                               logged in) [DEPLOY_DRY_RUN=1]
  --force-deploy               deploy even when nothing changed [DEPLOY_FORCE=1]
  -h, --help                   this text

Other environment variables:
  PYTHON                       Python 3.11+ that runs the deploy (tools/deploy) and checks
                               the settings with the function's own code
                               (.venv/bin/python when present, else python3)
  OKTA_ORG_URL, OKTA_API_TOKEN for --create-okta-hook (OKTA_API_TOKEN: or the service app)

Examples:
  ./deploy.sh --project my-project --basic-credentials-file ~/okta-hook-basic.txt --plan
  ./deploy.sh --project my-project --basic-credentials-file ~/okta-hook-basic.txt
  ./deploy.sh --project my-project --auth oauth-private-key \
      --issuer https://example.okta.com/oauth2/default --client-id 0oa1b2c3 \
      --scopes hooks.registration --hook-key-id HKY1b2c3 --create-okta-hook \
      --okta-policy "Default Policy" --okta-api-client-id 0oa9d8e7 \
      --okta-api-private-key-file ~/okta-api-key.pem --dry-run
"""
