"""A stand-in for `gcloud` in deploy.sh's tests: records each call, answers like gcloud would.

Run as `python fake_gcloud.py ARGS...` by a `gcloud` shim on PATH. The project's state (APIs,
service accounts, secrets, functions) lives in the JSON file named by FAKE_GCLOUD_STATE; every
call is appended to FAKE_GCLOUD_LOG as one JSON line: its argv, and the standard input or
env-vars file it was given.
"""

from __future__ import annotations

import fnmatch
import json
import os
import sys
from pathlib import Path
from typing import Any

VALUE_FLAGS = {
    "--project", "--format", "--filter", "--region", "--secret", "--replication-policy",
    "--labels", "--member", "--role", "--display-name", "--runtime", "--source", "--entry-point",
    "--ingress-settings", "--service-account", "--timeout", "--memory", "--cpu", "--concurrency",
    "--min-instances", "--max-instances", "--env-vars-file", "--update-labels",
    "--build-service-account", "--data-file",
}  # fmt: skip
PROJECT_NUMBER = "123456789012"

State = dict[str, Any]


class Failure(Exception):
    """gcloud's error: printed on stderr, exit status 1."""


def parse(argv: list[str]) -> tuple[list[str], dict[str, str], set[str]]:
    """Positional words, flags with values, and flags without."""
    words: list[str] = []
    values: dict[str, str] = {}
    switches: set[str] = set()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg.partition("=")
            values[name] = value
        elif arg in VALUE_FLAGS:
            values[arg] = argv[i + 1]
            i += 1
        elif arg.startswith("--"):
            switches.add(arg)
        else:
            words.append(arg)
        i += 1
    return words, values, switches


def main() -> int:
    argv = sys.argv[1:]
    state_path = Path(os.environ["FAKE_GCLOUD_STATE"])
    state: State = json.loads(state_path.read_text())
    entry: dict[str, Any] = {"argv": ["gcloud", *argv]}
    try:
        code = run(argv, state, entry)
    except Failure as e:
        print(f"ERROR: (gcloud) {e}", file=sys.stderr)
        code = 1
    entry["status"] = code
    with open(os.environ["FAKE_GCLOUD_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
    state_path.write_text(json.dumps(state, indent=2))
    return code


def run(argv: list[str], state: State, entry: dict[str, Any]) -> int:
    words, values, switches = parse(argv)
    project = values.get("--project", "")
    if words[:2] == ["auth", "list"]:
        print(state.get("account", ""))
        return 0
    if words[:1] == ["meta"] and words[1] == "list-files-for-upload":
        if state.get("meta_missing"):
            raise Failure("Invalid choice: 'list-files-for-upload'.")
        for name in upload_list(Path(words[2] if len(words) > 2 else ".")):
            print(name)
        return 0
    if words[:3] == ["run", "services", "update"] and "--help" in switches:
        if state.get("old_gcloud"):
            print("gcloud run services update SERVICE [--region=REGION] [--image=IMAGE]")
        else:
            print("gcloud run services update SERVICE ... [--[no-]invoker-iam-check] ...")
        return 0
    if words[:1] == ["storage"]:
        return storage(words, values, state)
    if project != state["project"]:
        raise Failure(f"PERMISSION_DENIED: no access to project [{project}]")
    group = words[0]
    if group == "services":
        return services(words, switches, state)
    if group == "iam":
        return service_accounts(words, values, state)
    if group == "secrets":
        return secrets(words, values, state, entry)
    if group == "functions":
        return functions(words, values, switches, state, entry)
    if group == "run":
        return run_services(words, values, switches, state)
    if group == "projects":
        state.setdefault("project_bindings", []).append(values)
        return 0
    if group in ("logging", "monitoring"):
        return monitoring(words, values, state, entry)
    raise Failure(f"fake gcloud does not know: {' '.join(argv)}")


def services(words: list[str], switches: set[str], state: State) -> int:
    enabled: list[str] = state.setdefault("enabled_services", [])
    if words[1] == "list" and "--enabled" in switches:
        print("\n".join(enabled))
        return 0
    if words[1] == "enable":
        enabled.extend(api for api in words[2:] if api not in enabled)
        return 0
    raise Failure("unknown services command")


def service_accounts(words: list[str], values: dict[str, str], state: State) -> int:
    accounts: dict[str, Any] = state.setdefault("service_accounts", {})
    verb, name = words[2], words[3]
    if verb == "describe":
        if name not in accounts:
            raise Failure(f"NOT_FOUND: Unknown service account [{name}]")
        print(name)
        return 0
    if verb == "create":
        email = f"{name}@{state['project']}.iam.gserviceaccount.com"
        if email in accounts:
            raise Failure(f"ALREADY_EXISTS: Service account {email} already exists")
        accounts[email] = {"displayName": values.get("--display-name", "")}
        return 0
    raise Failure("unknown service-accounts command")


def secrets(words: list[str], values: dict[str, str], state: State, entry: dict[str, Any]) -> int:
    store: dict[str, Any] = state.setdefault("secrets", {})
    if words[1] == "versions":
        return versions(words, values, store, entry)
    verb, name = words[1], words[2]
    if verb == "create":
        if name in store:
            raise Failure(f"ALREADY_EXISTS: Secret [{name}] already exists")
        if values.get("--replication-policy") != "automatic":
            raise Failure("a replication policy is needed")
        store[name] = {"labels": values.get("--labels", ""), "versions": [], "bindings": []}
        return 0
    if name not in store:
        raise Failure(f"NOT_FOUND: Secret [{name}] not found or has no versions")
    secret = store[name]
    if verb == "describe":
        print(f"projects/{PROJECT_NUMBER}/secrets/{name}")
        return 0
    if verb == "get-iam-policy":
        assert values.get("--format") == "json", "the policy is read as JSON"
        policy: dict[str, Any] = {"etag": "BwXfake="}
        if secret["bindings"]:
            policy["bindings"] = secret["bindings"]
        print(json.dumps(policy, indent=2))
        return 0
    if verb == "add-iam-policy-binding":
        member, role = values["--member"], values["--role"]
        email = member.removeprefix("serviceAccount:")
        if email not in state.get("service_accounts", {}):
            raise Failure(f"INVALID_ARGUMENT: Service account {email} does not exist.")
        for binding in secret["bindings"]:
            if binding["role"] == role:
                if member not in binding["members"]:
                    binding["members"].append(member)
                break
        else:
            secret["bindings"].append({"role": role, "members": [member]})
        return 0
    raise Failure("unknown secrets command")


def storage(words: list[str], values: dict[str, str], state: State) -> int:
    """Buckets (`buckets` in the state: uniform access, IAM bindings, object sizes) and their
    objects, as `gcloud storage` reads and binds them."""
    buckets: dict[str, Any] = state.setdefault("buckets", {})
    kind, verb, url = words[1], words[2], words[3]
    bucket_name, _, object_name = url.removeprefix("gs://").partition("/")
    if bucket_name not in buckets:
        raise Failure(f"NOT_FOUND: gs://{bucket_name} not found: 404.")
    bucket = buckets[bucket_name]
    if kind == "objects" and verb == "describe":
        objects = bucket.get("objects", {})
        if object_name not in objects:
            raise Failure(f"NOT_FOUND: {url} not found: 404.")
        assert values.get("--format") == "value(size)"
        print(objects[object_name])
        return 0
    if kind != "buckets":
        raise Failure("unknown storage command")
    if verb == "describe":
        assert values.get("--format") == "value(uniform_bucket_level_access)"
        print("True" if bucket.get("uniform") else "False")
        return 0
    bindings: list[dict[str, Any]] = bucket.setdefault("bindings", [])
    if verb == "get-iam-policy":
        assert values.get("--format") == "json"
        print(json.dumps({"bindings": bindings, "etag": "CAE=", "version": 3}, indent=2))
        return 0
    if verb == "add-iam-policy-binding":
        member, role = values["--member"], values["--role"]
        email = member.removeprefix("serviceAccount:")
        if email not in state.get("service_accounts", {}):
            raise Failure(f"INVALID_ARGUMENT: Service account {email} does not exist.")
        binding: dict[str, Any] = {"role": role, "members": [member]}
        if "--condition" in values:
            if not bucket.get("uniform"):
                raise Failure(
                    "BAD_REQUEST: IAM conditions need uniform bucket-level access on the bucket"
                )
            binding["condition"] = condition(values["--condition"])
        for held in bindings:
            if held["role"] == role and held.get("condition") == binding.get("condition"):
                if member not in held["members"]:
                    held["members"].append(member)
                break
        else:
            bindings.append(binding)
        return 0
    raise Failure("unknown storage buckets command")


def condition(text: str) -> dict[str, str]:
    """`--condition` as gcloud reads it: KEY=VALUE pairs split on commas, or on the delimiter
    `^X^` names first (gcloud topic escaping)."""
    delimiter = ","
    if text.startswith("^") and text.index("^", 1) == 2:
        delimiter, text = text[1], text[3:]
    return dict(pair.split("=", 1) for pair in text.split(delimiter))


def versions(words: list[str], values: dict[str, str], store: dict[str, Any], entry: Any) -> int:
    verb = words[2]
    name = words[3] if verb == "add" else values["--secret"]
    if name not in store:
        raise Failure(f"NOT_FOUND: Secret [{name}] not found")
    held: list[str] = store[name]["versions"]
    if verb == "add":
        assert values.get("--data-file") == "-", "the value comes on standard input"
        data = sys.stdin.read()
        entry["stdin"] = data
        held.append(data)
        print(f"Created version [{len(held)}] of the secret [{name}].", file=sys.stderr)
        return 0
    assert words[3] == "latest"
    if not held:
        raise Failure(f"NOT_FOUND: Secret Version [projects/{PROJECT_NUMBER}/secrets/{name}]")
    if verb == "access":
        sys.stdout.write(held[-1])
        return 0
    if verb == "describe":
        print(f"projects/{PROJECT_NUMBER}/secrets/{name}/versions/{len(held)}")
        return 0
    raise Failure("unknown versions command")


def functions(
    words: list[str], values: dict[str, str], switches: set[str], state: State, entry: Any
) -> int:
    deployed: dict[str, Any] = state.setdefault("functions", {})
    verb, name = words[1], words[2]
    if verb == "describe":
        if name not in deployed:
            raise Failure(f"NOT_FOUND: Resource 'projects/{state['project']}/.../{name}'")
        function = deployed[name]
        fields = {
            "value(labels.okta-hook-config)": function["labels"].get("okta-hook-config", ""),
            "value(serviceConfig.uri)": function["uri"],
        }
        print(fields[values["--format"]])
        return 0
    if verb == "deploy":
        env_text = Path(values["--env-vars-file"]).read_text()
        entry["env_vars_file"] = env_text
        if values["--service-account"] not in state.get("service_accounts", {}):
            raise Failure("INVALID_ARGUMENT: the service account does not exist")
        labels = dict(item.split("=", 1) for item in values["--update-labels"].split(","))
        old = deployed.get(name, {"labels": {}})
        deployed[name] = {
            **old,
            "labels": {**old["labels"], **labels},
            "uri": f"https://{name}-x7k2q9-uc.a.run.app",
            "flags": values,
            "switches": sorted(switches),
            "env": env_text,
        }
        return 0
    raise Failure("unknown functions command")


# Log-based metrics, alert policies and dashboards, keyed as Google names them.
MONITORING_GROUPS = {
    ("logging", "metrics"): ("log_metrics", "--config-from-file"),
    ("monitoring", "policies"): ("alert_policies", "--policy-from-file"),
    ("monitoring", "dashboards"): ("dashboards", "--config-from-file"),
}


def monitoring(words: list[str], values: dict[str, str], state: State, entry: Any) -> int:
    """list (JSON), create and update, with the resource read from the file named by a flag."""
    if tuple(words[:2]) not in MONITORING_GROUPS or len(words) < 3:
        raise Failure("unknown logging or monitoring command")
    kind, file_flag = MONITORING_GROUPS[(words[0], words[1])]
    verb = words[2]
    if verb == "list":  # a read leaves the state as it was
        assert values.get("--format") == "json", "the list is read as JSON"
        print(json.dumps(list(state.get(kind, {}).values()), indent=2))
        return 0
    store: dict[str, Any] = state.setdefault(kind, {})
    text = Path(values[file_flag]).read_text()
    entry["file"] = text
    body = json.loads(text)
    if verb == "create":
        name = {
            "log_metrics": words[3] if len(words) > 3 else "",
            "alert_policies": f"projects/{state['project']}/alertPolicies/{len(store) + 1}",
            "dashboards": str(body.get("name", "")).replace(state["project"], PROJECT_NUMBER),
        }[kind]
        if not name or name in store:
            raise Failure(f"ALREADY_EXISTS or no name: {name}")
        store[name] = _stored(kind, name, body, 1)
        return 0
    if verb == "update":
        name = words[3]
        if kind == "dashboards":
            name = f"projects/{PROJECT_NUMBER}/dashboards/{name}"
        if name not in store:
            raise Failure(f"NOT_FOUND: {name}")
        if kind == "dashboards" and body.get("etag") != store[name]["etag"]:
            raise Failure("ABORTED: the etag does not match")
        store[name] = _stored(kind, name, body, int(store[name].get("version", 1)) + 1)
        return 0
    raise Failure(f"unknown {words[0]} {words[1]} command")


def _stored(kind: str, name: str, body: dict[str, Any], version: int) -> dict[str, Any]:
    """As Google gives it back: its name, the fields it adds, a default value left out."""
    stored = {k: v for k, v in body.items() if k != "etag" and v not in (0, "", False)}
    stored["name"] = name
    stored["version"] = version
    if kind == "dashboards":
        stored["etag"] = f"etag-{version}"
    if kind == "alert_policies":
        stored["creationRecord"] = {"mutateTime": "2024-01-01T00:00:00Z"}
        for index, condition in enumerate(stored.get("conditions", [])):
            condition["name"] = f"{name}/conditions/{index}"
    return stored


def run_services(words: list[str], values: dict[str, str], switches: set[str], state: State) -> int:
    """A 2nd-gen function's Cloud Run service, of the same name: its invoker check."""
    verb, name = words[2], words[3]
    service = state.get("functions", {}).get(name)
    if service is None:
        raise Failure(f"NOT_FOUND: Cannot find service [{name}]")
    annotations = service.setdefault("annotations", {})
    if verb == "describe":
        assert values.get("--format") == "json"
        print(json.dumps({"metadata": {"name": name, "annotations": annotations}}))
        return 0
    if verb == "update" and "--no-invoker-iam-check" in switches:
        annotations["run.googleapis.com/invoker-iam-disabled"] = "true"
        return 0
    raise Failure("unknown run services command")


def matches(relative: str, pattern: str, anchored: bool) -> bool:
    """gitignore matching: `*` never crosses a `/`; a pattern with no `/` names any level."""
    if not anchored:
        return fnmatch.fnmatchcase(relative.rsplit("/", 1)[-1], pattern)
    parts, wanted = relative.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(map(fnmatch.fnmatchcase, parts, wanted))


def upload_list(root: Path) -> list[str]:
    """The files gcloud would upload, by the gitignore-style rules of .gcloudignore."""
    rules = []
    for raw in (root / ".gcloudignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!")
        dir_only = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        anchored = "/" in pattern
        rules.append((negated, pattern.lstrip("/"), dir_only, anchored))

    def ignored(relative: str, is_dir: bool) -> bool:
        verdict = False
        for negated, pattern, dir_only, anchored in rules:
            if dir_only and not is_dir:
                continue
            if matches(relative, pattern, anchored):
                verdict = not negated
        return verdict

    found: list[str] = []

    def walk(directory: Path, prefix: str) -> None:
        for child in sorted(directory.iterdir()):
            relative = prefix + child.name
            if ignored(relative, child.is_dir()):
                continue
            if child.is_dir():
                walk(child, relative + "/")
            else:
                found.append(relative)

    walk(root, "")
    return found


if __name__ == "__main__":
    sys.exit(main())
