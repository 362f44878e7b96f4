#!/usr/bin/env bash
# Deploys the Okta registration inline hook as a 2nd-gen Cloud Function, the same way every time,
# and prints (or creates) the Okta inline hook that points at it. `./deploy.sh --help` explains it.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./deploy.sh --project ID [options]

Deploys this checkout as a 2nd-gen Cloud Function that Okta calls as its registration inline
hook, then prints the function URL, the JSON body for Okta's POST /api/v1/inlineHooks and the
Admin Console steps to attach the hook to a profile enrollment policy.

It enables the APIs it needs, creates the function's own service account and its secrets when
missing, stores secret values in Secret Manager (a new version only when the value changed),
grants the service account roles/secretmanager.secretAccessor on those secrets only, checks the
configuration, and deploys only when the source or the settings changed. A second run with the
same inputs changes nothing and says so. Every gcloud and curl command is printed as it runs.

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
  --min-instances N            instances kept warm: a cold start eats into Okta's 3 seconds
                               [DEPLOY_MIN_INSTANCES] (1)
  --max-instances N            upper bound on instances [DEPLOY_MAX_INSTANCES] (10)
  --memory SIZE                memory per instance, e.g. 512Mi, 1Gi [DEPLOY_MEMORY] (512Mi)
  --cpu N                      CPUs per instance, e.g. 1, 2, 0.5 [DEPLOY_CPU] (1)
  --concurrency N              requests served at once by one instance [DEPLOY_CONCURRENCY] (8)
  --timeout SECONDS            request timeout; Okta gives up after 3 s [DEPLOY_TIMEOUT] (5)
                               WORKERS is set to the whole CPUs (at least 1: one process per
                               core, since Python runs one thread at a time) and THREADS to the
                               concurrency divided among them; below 1 CPU, concurrency must be 1.

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
  --client-id ID               client id of the Okta app the hook uses (a comma-separated list
                               is accepted by the function; Okta is given the first)
                               [OKTA_HOOK_CLIENT_IDS]
  --jwks-uri URL               where the signing keys are [OKTA_HOOK_JWKS_URI]
                               (ISSUER/v1/keys unless --jwks-file is given)
  --jwks-file PATH|-           pinned JWKS JSON instead of fetching keys (a secret)
                               [DEPLOY_JWKS_FILE]
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

Okta:
  --okta-hook-name NAME        name of the inline hook in Okta [DEPLOY_HOOK_NAME]
                               (the function name)
  --create-okta-hook           create the inline hook in Okta, or update it when it differs;
                               needs OKTA_ORG_URL (https://example.okta.com) and OKTA_API_TOKEN
                               (an API token, sent in a header read from standard input)
                               [DEPLOY_CREATE_OKTA_HOOK=1]
  --force-okta-update          update the Okta hook even when it looks current (Okta never
                               shows its secret back, so a changed secret cannot be seen)

Runs:
  --dry-run                    print every command; run only the read-only ones
                               [DEPLOY_DRY_RUN=1]
  --force-deploy               deploy even when nothing changed [DEPLOY_FORCE=1]
  -h, --help                   this text

Other environment variables:
  PYTHON                       Python 3.11+ used to check the policy and credentials
                               (.venv/bin/python when present, else python3)
  OKTA_ORG_URL, OKTA_API_TOKEN for --create-okta-hook

Examples:
  ./deploy.sh --project my-project --basic-credentials-file ~/okta-hook-basic.txt
  ./deploy.sh --project my-project --auth oauth-private-key \
      --issuer https://example.okta.com/oauth2/default --client-id 0oa1b2c3 \
      --scopes okta.hook --hook-key-id HKY1b2c3 --create-okta-hook --dry-run
EOF
}

die() {
  printf 'deploy.sh: error: %s\n' "$*" >&2
  exit 1
}

say() { printf '%s\n' "$*"; }
step() { printf '\n==> %s\n' "$*"; }

# A word as a shell would need it written, for printing commands.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

cmdline() {
  local word line=""
  for word in "$@"; do
    line+="$(quote "$word") "
  done
  printf '%s' "${line% }"
}

# gcloud must never stop to ask: every answer is in the command line.
export CLOUDSDK_CORE_DISABLE_PROMPTS=1

# Commands are printed on the saved stdout (fd 5), so that capturing a command's output
# does not capture its trace.
exec 5>&1

# A read-only command: runs in a dry run too.
check() {
  printf '+ %s\n' "$(cmdline "$@")" >&5
  "$@"
}

# A command that changes something: printed, and run unless this is a dry run.
change() {
  changes=$((changes + 1))
  if ((dry_run)); then
    printf '[dry-run] %s\n' "$(cmdline "$@")" >&5
    return 0
  fi
  printf '+ %s\n' "$(cmdline "$@")" >&5
  "$@"
}

# ---------------------------------------------------------------------------------------------
# Settings: defaults, then the environment, then the options.

PROJECT=${GOOGLE_CLOUD_PROJECT:-}
REGION=${DEPLOY_REGION:-us-central1}
FUNCTION=${DEPLOY_FUNCTION:-okta-registration-hook}
SERVICE_ACCOUNT=${DEPLOY_SERVICE_ACCOUNT:-}
RUNTIME=${DEPLOY_RUNTIME:-python312}
BUILD_SERVICE_ACCOUNT=${DEPLOY_BUILD_SERVICE_ACCOUNT:-}
MIN_INSTANCES=${DEPLOY_MIN_INSTANCES:-1}
MAX_INSTANCES=${DEPLOY_MAX_INSTANCES:-10}
MEMORY=${DEPLOY_MEMORY:-512Mi}
CPU=${DEPLOY_CPU:-1}
CONCURRENCY=${DEPLOY_CONCURRENCY:-8}
TIMEOUT=${DEPLOY_TIMEOUT:-5}
AUTH=${DEPLOY_AUTH:-basic}
BASIC_CREDENTIALS_FILE=${DEPLOY_BASIC_CREDENTIALS_FILE:-}
ISSUER=${OKTA_HOOK_ISSUER:-}
AUDIENCE=${OKTA_HOOK_AUDIENCE:-}
SCOPES=${OKTA_HOOK_SCOPES:-}
CLIENT_IDS=${OKTA_HOOK_CLIENT_IDS:-}
JWKS_URI=${OKTA_HOOK_JWKS_URI:-}
JWKS_FILE=${DEPLOY_JWKS_FILE:-}
LEEWAY_SECONDS=${OKTA_HOOK_LEEWAY_SECONDS:-}
TOKEN_URL=${DEPLOY_TOKEN_URL:-}
OKTA_CLIENT_SECRET_FILE=${DEPLOY_OKTA_CLIENT_SECRET_FILE:-}
HOOK_KEY_ID=${DEPLOY_HOOK_KEY_ID:-}
POLICY=${OKTA_HOOK_POLICY:-policies/ssr_and_progressive.toml}
ALLOWED_EMAIL_DOMAINS=${OKTA_HOOK_ALLOWED_EMAIL_DOMAINS:-}
SECRET_REFRESH_SECONDS=${OKTA_HOOK_SECRET_REFRESH_SECONDS:-}
HOOK_NAME=${DEPLOY_HOOK_NAME:-}
create_okta_hook=${DEPLOY_CREATE_OKTA_HOOK:-0}
force_okta_update=0
dry_run=${DEPLOY_DRY_RUN:-0}
force_deploy=${DEPLOY_FORCE:-0}

# A switch from the environment: 1/true/yes or 0/false/no, never silently something else.
switch() {
  case ${!1} in
    1 | true | yes) printf -v "$1" 1 ;;
    0 | false | no) printf -v "$1" 0 ;;
    *) die "$2=${!1}: use 1 or 0" ;;
  esac
}
switch create_okta_hook DEPLOY_CREATE_OKTA_HOOK
switch dry_run DEPLOY_DRY_RUN
switch force_deploy DEPLOY_FORCE

while (($#)); do
  option=$1
  value=""
  has_value=0
  if [[ $option == --*=* ]]; then
    value=${option#*=}
    option=${option%%=*}
    has_value=1
  fi
  case $option in
    -h | --help)
      usage
      exit 0
      ;;
    --dry-run | --force-deploy | --create-okta-hook | --force-okta-update)
      ((has_value == 0)) || die "$option takes no value"
      case $option in
        --dry-run) dry_run=1 ;;
        --force-deploy) force_deploy=1 ;;
        --create-okta-hook) create_okta_hook=1 ;;
        --force-okta-update) force_okta_update=1 ;;
      esac
      shift
      continue
      ;;
    --project | --region | --function | --service-account | --runtime | --build-service-account | \
      --min-instances | --max-instances | --memory | --cpu | --concurrency | --timeout | --auth | \
      --basic-credentials-file | --issuer | --audience | --scopes | --client-id | --jwks-uri | \
      --jwks-file | --leeway-seconds | --token-url | --okta-client-secret-file | --hook-key-id | \
      --policy | --allowed-email-domains | --secret-refresh-seconds | --okta-hook-name) ;;
    *) die "unknown option: $option (see ./deploy.sh --help)" ;;
  esac
  if ((has_value == 0)); then
    (($# >= 2)) || die "$option needs a value"
    value=$2
    shift
  fi
  shift
  case $option in
    --project) PROJECT=$value ;;
    --region) REGION=$value ;;
    --function) FUNCTION=$value ;;
    --service-account) SERVICE_ACCOUNT=$value ;;
    --runtime) RUNTIME=$value ;;
    --build-service-account) BUILD_SERVICE_ACCOUNT=$value ;;
    --min-instances) MIN_INSTANCES=$value ;;
    --max-instances) MAX_INSTANCES=$value ;;
    --memory) MEMORY=$value ;;
    --cpu) CPU=$value ;;
    --concurrency) CONCURRENCY=$value ;;
    --timeout) TIMEOUT=$value ;;
    --auth) AUTH=$value ;;
    --basic-credentials-file) BASIC_CREDENTIALS_FILE=$value ;;
    --issuer) ISSUER=$value ;;
    --audience) AUDIENCE=$value ;;
    --scopes) SCOPES=$value ;;
    --client-id) CLIENT_IDS=$value ;;
    --jwks-uri) JWKS_URI=$value ;;
    --jwks-file) JWKS_FILE=$value ;;
    --leeway-seconds) LEEWAY_SECONDS=$value ;;
    --token-url) TOKEN_URL=$value ;;
    --okta-client-secret-file) OKTA_CLIENT_SECRET_FILE=$value ;;
    --hook-key-id) HOOK_KEY_ID=$value ;;
    --policy) POLICY=$value ;;
    --allowed-email-domains) ALLOWED_EMAIL_DOMAINS=$value ;;
    --secret-refresh-seconds) SECRET_REFRESH_SECONDS=$value ;;
    --okta-hook-name) HOOK_NAME=$value ;;
  esac
done

# ---------------------------------------------------------------------------------------------
# Checks that need nothing but the inputs. Nothing below changes anything until they all pass.

[[ -n $PROJECT ]] || die "no project: pass --project ID (or set GOOGLE_CLOUD_PROJECT)"
[[ $PROJECT =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || die "--project $PROJECT is not a project id"
[[ $REGION =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || die "--region $REGION is not a region name"
[[ $FUNCTION =~ ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$ ]] ||
  die "--function $FUNCTION: use lowercase letters, digits and hyphens (at most 63)"
SERVICE_ACCOUNT=${SERVICE_ACCOUNT:-${FUNCTION:0:30}}
SERVICE_ACCOUNT=${SERVICE_ACCOUNT%-}
[[ $SERVICE_ACCOUNT =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] ||
  die "service account id $SERVICE_ACCOUNT: 6 to 30 lowercase letters, digits or hyphens" \
    "(pass --service-account)"
SA_EMAIL=$SERVICE_ACCOUNT@$PROJECT.iam.gserviceaccount.com
HOOK_NAME=${HOOK_NAME:-$FUNCTION}

if [[ $RUNTIME =~ ^python3([0-9]+)$ ]]; then
  ((BASH_REMATCH[1] >= 11)) || die "--runtime $RUNTIME: the hook needs python311 or newer"
else
  die "--runtime $RUNTIME is not a Python runtime (python311, python312, ...)"
fi

positive_integer() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 $2 is not a positive whole number"; }
[[ $MIN_INSTANCES =~ ^(0|[1-9][0-9]*)$ ]] || die "--min-instances $MIN_INSTANCES is not a whole number"
positive_integer --max-instances "$MAX_INSTANCES"
((MAX_INSTANCES >= MIN_INSTANCES)) || die "--max-instances is below --min-instances"
positive_integer --concurrency "$CONCURRENCY"
((CONCURRENCY <= 1000)) || die "--concurrency $CONCURRENCY is above 1000"
positive_integer --timeout "$TIMEOUT"
((TIMEOUT <= 60)) || die "--timeout $TIMEOUT: Okta waits 3 seconds; use at most 60"
[[ $MEMORY =~ ^[1-9][0-9]*(k|M|G|Ki|Mi|Gi)$ ]] || die "--memory $MEMORY is not a size like 512Mi"
if ! [[ $CPU =~ ^[0-9]+(\.[0-9]+)?$ ]] || ! awk -v c="$CPU" 'BEGIN { exit !(c > 0) }'; then
  die "--cpu $CPU is not a number of CPUs like 1, 2 or 0.5"
fi
WORKERS=${CPU%%.*}
if ((WORKERS < 1)); then
  WORKERS=1
  ((CONCURRENCY == 1)) || die "--concurrency above 1 needs --cpu 1 or more"
fi
THREADS=$(((CONCURRENCY + WORKERS - 1) / WORKERS))
[[ -z $SECRET_REFRESH_SECONDS ]] || positive_integer --secret-refresh-seconds "$SECRET_REFRESH_SECONDS"
[[ -z $LEEWAY_SECONDS || $LEEWAY_SECONDS =~ ^(0|[1-9][0-9]*)$ ]] ||
  die "--leeway-seconds $LEEWAY_SECONDS is not a whole number"

https_url() { [[ $2 =~ ^https://[^[:space:]/]+(/[^[:space:]]*)?$ ]] || die "$1 $2 is not an https:// URL"; }

# Only the auth mode's own settings may be given: a stray one means a mistake somewhere.
refuse_unless() {
  local allowed=$1 option=$2 value=$3
  [[ -z $value || " $allowed " == *" $AUTH "* ]] ||
    die "$option does not apply to --auth $AUTH (only to: $allowed)"
}
case $AUTH in
  basic | oauth-client-secret | oauth-private-key) ;;
  *) die "--auth $AUTH is not one of: basic, oauth-client-secret, oauth-private-key" ;;
esac
oauth="oauth-client-secret oauth-private-key"
refuse_unless basic --basic-credentials-file "$BASIC_CREDENTIALS_FILE"
for pair in "--issuer:$ISSUER" "--audience:$AUDIENCE" "--scopes:$SCOPES" "--client-id:$CLIENT_IDS" \
  "--jwks-uri:$JWKS_URI" "--jwks-file:$JWKS_FILE" "--leeway-seconds:$LEEWAY_SECONDS" \
  "--token-url:$TOKEN_URL"; do
  refuse_unless "$oauth" "${pair%%:*}" "${pair#*:}"
done
refuse_unless oauth-client-secret --okta-client-secret-file "$OKTA_CLIENT_SECRET_FILE"
refuse_unless oauth-private-key --hook-key-id "$HOOK_KEY_ID"

if [[ $AUTH != basic ]]; then
  [[ -n $ISSUER ]] || die "--auth $AUTH needs --issuer (the Okta authorization server)"
  https_url --issuer "$ISSUER"
  ISSUER=${ISSUER%/}
  [[ -n ${SCOPES// /} ]] || die "--auth $AUTH needs --scopes (the custom scope Okta requests)"
  SCOPES=$(printf '%s' "$SCOPES" | tr -s ' ' | sed 's/^ //; s/ $//')
  [[ -n ${CLIENT_IDS//[ ,]/} ]] || die "--auth $AUTH needs --client-id (the Okta app's client id)"
  CLIENT_IDS=${CLIENT_IDS// /}
  AUDIENCE=${AUDIENCE:-api://default}
  TOKEN_URL=${TOKEN_URL:-$ISSUER/v1/token}
  https_url --token-url "$TOKEN_URL"
  if [[ -z $JWKS_FILE ]]; then
    JWKS_URI=${JWKS_URI:-$ISSUER/v1/keys}
    https_url --jwks-uri "$JWKS_URI"
  elif [[ -n $JWKS_URI ]]; then
    die "give --jwks-uri or --jwks-file, not both"
  fi
fi
if ((create_okta_hook)); then
  [[ -n ${OKTA_ORG_URL:-} ]] || die "--create-okta-hook needs OKTA_ORG_URL (https://example.okta.com)"
  https_url OKTA_ORG_URL "$OKTA_ORG_URL"
  OKTA_ORG_URL=${OKTA_ORG_URL%/}
  [[ -n ${OKTA_API_TOKEN:-} ]] || die "--create-okta-hook needs OKTA_API_TOKEN (an Okta API token)"
  [[ $OKTA_API_TOKEN =~ ^[A-Za-z0-9._~+/=-]+$ ]] || die "OKTA_API_TOKEN has characters a token cannot have"
  if [[ $AUTH == oauth-client-secret && -z $OKTA_CLIENT_SECRET_FILE ]]; then
    die "--create-okta-hook with --auth oauth-client-secret needs --okta-client-secret-file"
  fi
  if [[ $AUTH == oauth-private-key && -z $HOOK_KEY_ID ]]; then
    die "--create-okta-hook with --auth oauth-private-key needs --hook-key-id"
  fi
  command -v curl >/dev/null || die "curl is needed for --create-okta-hook"
elif [[ -n $OKTA_CLIENT_SECRET_FILE ]]; then
  die "--okta-client-secret-file is only sent to Okta, with --create-okta-hook"
fi
if ((force_okta_update && !create_okta_hook)); then
  die "--force-okta-update goes with --create-okta-hook"
fi
for name in OKTA_HOOK_BASIC_CREDENTIALS OKTA_HOOK_JWKS OKTA_HOOK_JWT_HMAC_SECRET; do
  if [[ -n ${!name:-} ]]; then
    say "note: $name in the environment is ignored: deploy.sh reads secrets from files only"
  fi
done

# Secret inputs: read once, kept in shell variables, which never reach an argument list.
stdin_taken=0
read_secret() {
  local option=$1 path=$2 target=$3 text
  if [[ $path == - ]]; then
    ((stdin_taken == 0)) || die "$option -: standard input already holds another secret"
    stdin_taken=1
    text=$(cat)
  else
    [[ -r $path && ! -d $path ]] || die "$option $path: no such readable file"
    text=$(<"$path")
  fi
  [[ -n ${text//[[:space:]]/} ]] || die "$option $path: the file is empty"
  printf -v "$target" '%s' "$text"
}
basic_value=""
jwks_value=""
okta_client_secret=""
[[ -z $BASIC_CREDENTIALS_FILE ]] ||
  read_secret --basic-credentials-file "$BASIC_CREDENTIALS_FILE" basic_value
[[ -z $JWKS_FILE ]] || read_secret --jwks-file "$JWKS_FILE" jwks_value
[[ -z $OKTA_CLIENT_SECRET_FILE ]] ||
  read_secret --okta-client-secret-file "$OKTA_CLIENT_SECRET_FILE" okta_client_secret

# The source is this checkout: gcloud uploads the current directory (--source .). Secret files
# were read above, relative to where deploy.sh was started.
cd "$(dirname "${BASH_SOURCE[0]}")"

[[ $POLICY != /* && $POLICY != *..* ]] || die "--policy $POLICY must be a path inside the checkout"
[[ -f $POLICY ]] || die "--policy $POLICY: no such file in the checkout"

if [[ -z ${PYTHON:-} ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
command -v "$PYTHON" >/dev/null || die "no Python ($PYTHON): set PYTHON to Python 3.11 or newer"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  die "$PYTHON is older than Python 3.11 (set PYTHON)"

# The policy check. One command, so that a dedicated policy checker can take its place.
check_policy() {
  # The same check as `make check-policy`; on success it prints what the policy allows and denies.
  "$PYTHON" -m tools.policy_check --allowed-email-domains "$2" "$1"
}

step "Checking the configuration"
reason=$(check_policy "$POLICY" "$ALLOWED_EMAIL_DOMAINS" 2>&1) ||
  die "the policy cannot be used, and the function would refuse every request: $reason"
say "policy $POLICY: valid"
printf '%s\n' "$reason" | sed -n '2,$s/^/    /p'
if [[ -n $basic_value ]]; then
  # The function's own parser, so that deploy.sh accepts exactly what the function accepts.
  reason=$("$PYTHON" -c '
import sys
from auth.basic import CredentialsFormatError, parse_credentials
try:
    parse_credentials(sys.stdin.read())
except CredentialsFormatError as e:
    sys.exit(f"{e}")
' 2>&1 < <(printf '%s' "$basic_value")) || die "--basic-credentials-file: $reason"
  say "basic credentials: well formed"
fi
if [[ -n $jwks_value ]]; then
  "$PYTHON" -c '
import json, sys
try:
    keys = json.load(sys.stdin).get("keys")
except (ValueError, AttributeError):
    keys = None
sys.exit(0 if isinstance(keys, list) and keys else 1)
' < <(printf '%s' "$jwks_value") || die "--jwks-file: not a JWKS (a JSON object with a non-empty \"keys\" list)"
  say "pinned JWKS: well formed"
fi
say "auth $AUTH: settings complete"
say "instances: $MIN_INSTANCES to $MAX_INSTANCES, $CPU CPU, $MEMORY, concurrency $CONCURRENCY" \
  "(WORKERS=$WORKERS THREADS=$THREADS), timeout ${TIMEOUT}s"

command -v gcloud >/dev/null || die "gcloud is not installed (https://cloud.google.com/sdk)"

work=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/deploy-hook.XXXXXX")
trap 'rm -rf "$work"' EXIT
changes=0

# ---------------------------------------------------------------------------------------------
step "Checking what gcloud would upload"

upload_known=0
if check gcloud meta list-files-for-upload . >"$work/upload.txt" 2>"$work/upload.err"; then
  upload_known=1
  sort -o "$work/upload.txt" "$work/upload.txt"
  for needed in main.py requirements.txt "$POLICY"; do
    grep -qxF "$needed" "$work/upload.txt" ||
      die "$needed would not be uploaded: .gcloudignore leaves it out"
  done
  for init in */__init__.py; do
    [[ -e $init ]] || continue
    package=${init%/__init__.py}
    case $package in tests | tools | bench) continue ;; esac
    grep -qxF "$init" "$work/upload.txt" ||
      die "package $package/ would not be uploaded: add !/$package/ to .gcloudignore"
  done
  say "$(wc -l <"$work/upload.txt" | tr -d ' ') files, no tests or local settings"
else
  say "gcloud cannot list the upload; the function will be deployed on every run"
fi

# ---------------------------------------------------------------------------------------------
step "Google Cloud project $PROJECT"

account=$(check gcloud auth list --filter=status:ACTIVE --format='value(account)' 2>/dev/null) || account=""
[[ -n $account ]] || die "gcloud has no active account: run gcloud auth login"
say "acting as $account"
if [[ $AUTH == basic && -z $basic_value ]]; then
  check gcloud secrets versions describe latest --secret "$FUNCTION-basic-credentials" \
    --project "$PROJECT" --format='value(name)' >/dev/null 2>&1 ||
    die "secret $FUNCTION-basic-credentials holds no value yet: give one with" \
      "--basic-credentials-file"
fi

apis=(cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com
  artifactregistry.googleapis.com secretmanager.googleapis.com iam.googleapis.com)
enabled=$(check gcloud services list --enabled --project "$PROJECT" --format='value(config.name)') ||
  die "cannot list the enabled APIs of $PROJECT (does it exist, and may $account use it?)"
missing=()
for api in "${apis[@]}"; do
  grep -qxF "$api" <<<"$enabled" || missing+=("$api")
done
if ((${#missing[@]})); then
  change gcloud services enable "${missing[@]}" --project "$PROJECT"
else
  say "APIs: already enabled"
fi

if check gcloud iam service-accounts describe "$SA_EMAIL" --project "$PROJECT" \
  --format='value(email)' >/dev/null 2>&1; then
  say "service account $SA_EMAIL: exists"
else
  change gcloud iam service-accounts create "$SERVICE_ACCOUNT" --project "$PROJECT" \
    --display-name "Okta registration hook ($FUNCTION)"
fi

# ---------------------------------------------------------------------------------------------
step "Secrets"

# sha256 of a secret read on stdin, so that two values can be compared without showing either.
digest() {
  "$PYTHON" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read().rstrip(b"\r\n")).hexdigest())'
}

# Creates the secret when missing and adds a version when the value differs from the latest.
# Prints nothing of the value. Sets `secret_changed`.
store_secret() {
  local secret=$1 value=$2 stored wanted
  secret_changed=0
  if check gcloud secrets describe "$secret" --project "$PROJECT" --format='value(name)' >/dev/null 2>&1; then
    say "secret $secret: exists"
  else
    change gcloud secrets create "$secret" --project "$PROJECT" --replication-policy automatic \
      --labels "okta-hook=$FUNCTION"
  fi
  if [[ -z $value ]]; then
    say "secret $secret: no new value given; the latest version stays"
    return 0
  fi
  wanted=$(digest < <(printf '%s' "$value"))
  if stored=$(check gcloud secrets versions access latest --secret "$secret" --project "$PROJECT" \
    2>/dev/null | digest) && [[ $stored == "$wanted" ]]; then
    say "secret $secret: the latest version already holds this value"
    return 0
  fi
  secret_changed=1
  change gcloud secrets versions add "$secret" --project "$PROJECT" --data-file=- \
    < <(printf '%s' "$value")
}

# roles/secretmanager.secretAccessor for the runtime service account, on this one secret only.
grant_access() {
  local secret=$1 members attempt
  members=$(check gcloud secrets get-iam-policy "$secret" --project "$PROJECT" --format=json \
    2>/dev/null) || members="{}"
  if "$PYTHON" -c '
import json, sys
policy = json.loads(sys.argv[1] or "{}")
sys.exit(0 if any(
    b.get("role") == "roles/secretmanager.secretAccessor" and sys.argv[2] in b.get("members", [])
    for b in policy.get("bindings", [])
) else 1)
' "$members" "serviceAccount:$SA_EMAIL"; then
    say "secret $secret: $SA_EMAIL may already read it"
    return 0
  fi
  # A service account created seconds ago may not be visible to IAM yet: retry a little.
  for attempt in 1 2 3 4 5; do
    if change gcloud secrets add-iam-policy-binding "$secret" --project "$PROJECT" \
      --member "serviceAccount:$SA_EMAIL" --role roles/secretmanager.secretAccessor \
      --format=none; then
      return 0
    fi
    changes=$((changes - 1))
    ((attempt < 5)) || die "cannot grant $SA_EMAIL access to secret $secret"
    say "IAM does not see $SA_EMAIL yet; retrying in 10 s"
    sleep 10
  done
}

# Each secret-valued setting in use: NAME (as the function reads it), secret id, value.
secret_settings=()
basic_changed=0
if [[ $AUTH == basic ]]; then
  secret_settings+=("OKTA_HOOK_BASIC_CREDENTIALS")
  store_secret "$FUNCTION-basic-credentials" "$basic_value"
  basic_changed=$secret_changed
  grant_access "$FUNCTION-basic-credentials"
fi
if [[ -n $jwks_value ]]; then
  secret_settings+=("OKTA_HOOK_JWKS")
  store_secret "$FUNCTION-jwks" "$jwks_value"
  grant_access "$FUNCTION-jwks"
fi
((${#secret_settings[@]})) || say "none: --auth $AUTH checks tokens against Okta's public keys"

# ---------------------------------------------------------------------------------------------
step "Function $FUNCTION in $REGION"

env_file=$work/env.yaml
env_line() {
  local value=$2
  [[ $value != *[[:cntrl:]]* ]] || die "$1 holds a control character"
  value=${value//\\/\\\\}
  printf '%s: "%s"\n' "$1" "${value//\"/\\\"}" >>"$env_file"
}
: >"$env_file"
env_line GOOGLE_CLOUD_PROJECT "$PROJECT"
env_line WORKERS "$WORKERS"
env_line THREADS "$THREADS"
env_line OKTA_HOOK_POLICY "$POLICY"
[[ -z $ALLOWED_EMAIL_DOMAINS ]] || env_line OKTA_HOOK_ALLOWED_EMAIL_DOMAINS "$ALLOWED_EMAIL_DOMAINS"
for name in ${secret_settings[@]+"${secret_settings[@]}"}; do
  case $name in
    OKTA_HOOK_BASIC_CREDENTIALS) secret=$FUNCTION-basic-credentials ;;
    OKTA_HOOK_JWKS) secret=$FUNCTION-jwks ;;
  esac
  env_line "${name}_SECRET" "projects/$PROJECT/secrets/$secret/versions/latest"
done
[[ -z $SECRET_REFRESH_SECONDS ]] || env_line OKTA_HOOK_SECRET_REFRESH_SECONDS "$SECRET_REFRESH_SECONDS"
if [[ $AUTH != basic ]]; then
  env_line OKTA_HOOK_ISSUER "$ISSUER"
  env_line OKTA_HOOK_AUDIENCE "$AUDIENCE"
  env_line OKTA_HOOK_SCOPES "$SCOPES"
  env_line OKTA_HOOK_CLIENT_IDS "$CLIENT_IDS"
  [[ -z $JWKS_URI ]] || env_line OKTA_HOOK_JWKS_URI "$JWKS_URI"
  [[ -z $LEEWAY_SECONDS ]] || env_line OKTA_HOOK_LEEWAY_SECONDS "$LEEWAY_SECONDS"
fi
say "environment (--env-vars-file; secrets are references, never values):"
sed 's/^/  /' "$env_file"

deploy=(gcloud functions deploy "$FUNCTION" --gen2 --project "$PROJECT" --region "$REGION"
  --runtime "$RUNTIME" --source . --entry-point registration_hook --trigger-http
  --allow-unauthenticated --ingress-settings all --service-account "$SA_EMAIL"
  --timeout "${TIMEOUT}s" --memory "$MEMORY" --cpu "$CPU" --concurrency "$CONCURRENCY"
  --min-instances "$MIN_INSTANCES" --max-instances "$MAX_INSTANCES" --clear-secrets)
[[ -z $BUILD_SERVICE_ACCOUNT ]] ||
  deploy+=(--build-service-account "projects/$PROJECT/serviceAccounts/$BUILD_SERVICE_ACCOUNT")

# What was deployed is remembered in a label: the digest of the upload, the flags and the
# environment. The same digest means there is nothing to deploy.
fingerprint=""
if ((upload_known)); then
  fingerprint=$("$PYTHON" -c '
import hashlib, sys
from pathlib import Path
total = hashlib.sha256(sys.stdin.buffer.read())
total.update(Path(sys.argv[2]).read_bytes())
for name in Path(sys.argv[1]).read_text().split("\n"):
    if name:
        total.update(name.encode() + b"\0" + hashlib.sha256(Path(name).read_bytes()).digest())
print(total.hexdigest()[:40])
' "$work/upload.txt" "$env_file" < <(printf '%s\n' "${deploy[@]}"))
fi
deployed=$(check gcloud functions describe "$FUNCTION" --region "$REGION" --project "$PROJECT" \
  --format='value(labels.okta-hook-config)' 2>/dev/null) && exists=1 || exists=0
redeployed=0
if ((exists)) && [[ -n $fingerprint && $deployed == "$fingerprint" ]] && ((!force_deploy)); then
  say "function $FUNCTION: already deployed with this source and these settings"
else
  redeployed=1
  if ((dry_run)); then
    say "(--env-vars-file would be a temporary file holding the environment above)"
  fi
  change "${deploy[@]}" --env-vars-file "$env_file" \
    --update-labels "okta-hook-config=${fingerprint:-unknown}" --quiet
fi

url=""
if ((!dry_run || exists)); then
  url=$(check gcloud functions describe "$FUNCTION" --region "$REGION" --project "$PROJECT" \
    --format='value(serviceConfig.uri)')
fi
if [[ -z $url ]]; then
  url=https://$REGION-$PROJECT.cloudfunctions.net/$FUNCTION
  say "function URL (expected; known after the first deploy): $url"
else
  say "function URL: $url"
fi

# ---------------------------------------------------------------------------------------------
step "Okta inline hook \"$HOOK_NAME\""

hook_args=(--mode "$AUTH" --name "$HOOK_NAME" --uri "$url")
if [[ $AUTH != basic ]]; then
  hook_args+=(--client-id "${CLIENT_IDS%%,*}" --token-url "$TOKEN_URL" --scope "$SCOPES")
fi
[[ -z $HOOK_KEY_ID ]] || hook_args+=(--hook-key-id "$HOOK_KEY_ID")

# The body with its real secret, for Okta only: it goes to curl through a file descriptor.
hook_body_with_secret() {
  ((!dry_run)) || return 0
  case $AUTH in
    basic)
      if [[ -n $basic_value ]]; then
        printf '%s' "$basic_value"
      else
        check gcloud secrets versions access latest --secret "$FUNCTION-basic-credentials" \
          --project "$PROJECT"
      fi | "$PYTHON" -m tools.okta_inline_hook body "${hook_args[@]}" --secret-from-stdin
      ;;
    oauth-client-secret)
      printf '%s' "$okta_client_secret" |
        "$PYTHON" -m tools.okta_inline_hook body "${hook_args[@]}" --secret-from-stdin
      ;;
    oauth-private-key) "$PYTHON" -m tools.okta_inline_hook body "${hook_args[@]}" ;;
  esac
}

# One call to Okta's API; its HTTP status goes to $work/okta.status, its answer to
# $work/okta.json. The token goes in a curl config read from standard input, the body (when
# there is one) through file descriptor 3: neither is ever an argument.
okta_api() {
  local kind=$1 method=$2 path=$3
  shift 3
  local call=(curl --silent --show-error --connect-timeout 10 --max-time 30 --request "$method"
    --header 'Accept: application/json' "$@" --output "$work/okta.json" --write-out '%{http_code}'
    --config - "$OKTA_ORG_URL$path")
  printf '000' >"$work/okta.status"
  : >"$work/okta.json"
  "$kind" "${call[@]}" >"$work/okta.status" \
    < <(printf 'header = "Authorization: SSWS %s"\n' "$OKTA_API_TOKEN")
}

okta_failed() {
  die "Okta answered HTTP $1 to $2: $("$PYTHON" -m tools.okta_inline_hook error-summary <"$work/okta.json")"
}

attach_steps() {
  say "To run the hook, attach it to a profile enrollment policy (Admin Console):"
  say "  1. Security > User Profile Policies (Security > Profile Enrollment in older orgs): edit"
  say "     the policy of the app people sign up to."
  say "  2. In its profile enrollment settings, allow sign-up for new users."
  say "  3. In \"Use the following inline hook\", choose \"$HOOK_NAME\"."
  say "  4. In \"Run this hook\", choose \"Both\" (registration and progressive profile), or the"
  say "     request type your policy file covers. Save."
  say "  5. Check it: Workflow > Inline Hooks > $HOOK_NAME > Preview."
}

if ((create_okta_hook)); then
  okta_api check GET "/api/v1/inlineHooks?type=com.okta.user.pre-registration" ||
    die "cannot reach Okta at $OKTA_ORG_URL"
  status=$(<"$work/okta.status")
  [[ $status == 200 ]] || okta_failed "$status" "the list of inline hooks"
  found=$("$PYTHON" -m tools.okta_inline_hook find "${hook_args[@]}" <"$work/okta.json") ||
    die "cannot compare with the inline hooks in Okta"
  read -r hook_id hook_status hook_state <<<"$found"
  json_body=(--header 'Content-Type: application/json' --data-binary @/dev/fd/3)
  show_body() {
    if ((dry_run)); then
      say "body (read by curl from file descriptor 3; placeholders stand for secrets here):"
      "$PYTHON" -m tools.okta_inline_hook body "${hook_args[@]}"
    fi
  }
  sent=""
  if [[ $hook_id == absent ]]; then
    sent="created in Okta"
    okta_api change POST /api/v1/inlineHooks "${json_body[@]}" 3< <(hook_body_with_secret) ||
      die "cannot reach Okta at $OKTA_ORG_URL"
    show_body
  elif [[ $AUTH == basic ]] && ((basic_changed && !redeployed && !force_okta_update)); then
    say "not updated: the credentials changed in this run, and running instances load them"
    say "within OKTA_HOOK_SECRET_REFRESH_SECONDS (${SECRET_REFRESH_SECONDS:-300} s). For Okta to"
    say "send the new last line, run again after that with --force-okta-update."
  elif [[ $hook_state == differs ]] || ((force_okta_update)); then
    sent="updated in Okta (id $hook_id)"
    okta_api change PUT "/api/v1/inlineHooks/$hook_id" "${json_body[@]}" \
      3< <(hook_body_with_secret) || die "cannot reach Okta at $OKTA_ORG_URL"
    show_body
  else
    say "already current in Okta (id $hook_id). Okta never shows its secret back: after"
    say "changing it, run again with --force-okta-update."
  fi
  if [[ -n $sent ]] && ((!dry_run)); then
    status=$(<"$work/okta.status")
    [[ $status == 200 ]] || okta_failed "$status" "the inline hook"
    say "$sent"
  fi
  if [[ $hook_id != absent && $hook_status != ACTIVE ]]; then
    say "note: the hook is $hook_status in Okta: activate it in Workflow > Inline Hooks"
  fi
else
  say "Body for Okta's POST /api/v1/inlineHooks (placeholders where secrets go; run again"
  say "with OKTA_ORG_URL, OKTA_API_TOKEN and --create-okta-hook to have it created):"
  "$PYTHON" -m tools.okta_inline_hook body "${hook_args[@]}"
  say "Or in the Admin Console: Workflow > Inline Hooks > Add Inline Hook > Registration; URL as"
  case $AUTH in
    basic) say "above; Authentication field Authorization; secret: Basic <base64 of a line>." ;;
    oauth-client-secret) say "above; OAuth 2.0, Use client secret, client id, token URL, scope." ;;
    oauth-private-key) say "above; OAuth 2.0, Use private key, client id, key, token URL, scope." ;;
  esac
fi
echo
attach_steps

# ---------------------------------------------------------------------------------------------
echo
if ((dry_run)); then
  say "Dry run: $changes change(s) would be made; nothing was changed."
elif ((changes == 0)); then
  say "Nothing changed: everything was already up to date."
else
  say "Done: $changes change(s) made."
fi
