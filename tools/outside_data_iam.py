"""What deploy grants the function's service account so that it can read the lists and secrets a
policy names, and nothing else: the gcloud commands, and the lines its plan shows.

A Cloud Storage object: roles/storage.objectViewer on its bucket with an IAM condition that
holds for that object's name alone. IAM Conditions on a bucket need uniform bucket-level access;
on a bucket without it, no condition can be set, and the grant falls back to the whole bucket
(the plan says so, and says how to narrow it). A Secret Manager secret:
roles/secretmanager.secretAccessor on that secret (every version of it), never on the project.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lists.cloud_storage import parse_location
from secret_sources.secret_manager import parse_version_name

OBJECT_VIEWER = "roles/storage.objectViewer"
SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"  # noqa: S105  a role name
# gcloud reads --condition as KEY=VALUE pairs split on commas; `^X^` picks another delimiter
# (gcloud topic escaping) when the expression holds a comma.
_DELIMITERS = ",;#~%!@&*+|"


@dataclass(frozen=True)
class Grant:
    """One binding: what it lets the function read, how narrowly, and the command; `current`
    reads the IAM policy it goes in (JSON), `expression` is its IAM condition, if any."""

    reads: str
    scope: str
    argv: tuple[str, ...]
    current: tuple[str, ...] = ()
    member: str = ""
    role: str = ""
    expression: str | None = None

    def made(self, policy_json: str) -> bool:
        """Whether the IAM policy `current` printed already holds this binding: the same role
        and member, and the same condition (or none)."""
        try:
            policy = json.loads(policy_json or "{}")
        except ValueError:
            return False
        bindings = policy.get("bindings") if isinstance(policy, dict) else None
        if not isinstance(bindings, list):
            return False
        for binding in bindings:
            if not isinstance(binding, dict) or binding.get("role") != self.role:
                continue
            condition = binding.get("condition")
            expression = condition.get("expression") if isinstance(condition, dict) else None
            if expression == self.expression and self.member in (binding.get("members") or []):
                return True
        return False


def uniform_access_check(bucket: str) -> tuple[str, ...]:
    """The command whose output ("True") says the bucket can take IAM Conditions."""
    return (
        "gcloud", "storage", "buckets", "describe", f"gs://{bucket}",
        "--format=value(uniform_bucket_level_access)",
    )  # fmt: skip


def buckets_of(locations: Iterable[str]) -> list[str]:
    """The buckets whose uniform access deploy must check first, each once, in order."""
    found: list[str] = []
    for location in locations:
        if location.startswith("gs://"):
            bucket, _ = parse_location(location)
            if bucket not in found:
                found.append(bucket)
    return found


def grants(
    service_account: str, locations: Iterable[str], uniform: Mapping[str, bool]
) -> list[Grant]:
    """The bindings for `locations` (gs://bucket/object, or a Secret Manager version), each
    place once; `uniform` says, per bucket, whether uniform bucket-level access is on."""
    who = f"serviceAccount:{service_account}"
    member = f"--member={who}"
    made: list[Grant] = []
    seen: set[str] = set()
    for location in locations:
        if location.startswith("gs://"):
            bucket, name = parse_location(location)
            if location in seen or f"gs://{bucket}" in seen:
                continue
            if uniform.get(bucket, False):
                seen.add(location)
                made.append(_object_grant(who, bucket, name))
            else:
                seen.add(f"gs://{bucket}")
                made.append(
                    Grant(
                        f"gs://{bucket}/*",
                        "the whole bucket: uniform bucket-level access is off, so no IAM "
                        "condition can narrow it (turn it on, or keep the lists in a bucket "
                        "of their own)",
                        (
                            "gcloud",
                            "storage",
                            "buckets",
                            "add-iam-policy-binding",
                            f"gs://{bucket}",
                            member,
                            f"--role={OBJECT_VIEWER}",
                        ),
                        _bucket_policy(bucket),
                        who,
                        OBJECT_VIEWER,
                    )  # fmt: skip
                )
        else:
            version = parse_version_name(location)
            project, _, secret = version.split("/")[1:4]
            key = f"projects/{project}/secrets/{secret}"
            if key in seen:
                continue
            seen.add(key)
            made.append(
                Grant(
                    key,
                    "this secret (all its versions)",
                    (
                        "gcloud",
                        "secrets",
                        "add-iam-policy-binding",
                        secret,
                        f"--project={project}",
                        member,
                        f"--role={SECRET_ACCESSOR}",
                    ),
                    (
                        "gcloud",
                        "secrets",
                        "get-iam-policy",
                        secret,
                        f"--project={project}",
                        "--format=json",
                    ),
                    who,
                    SECRET_ACCESSOR,
                )  # fmt: skip
            )
    return made


def _bucket_policy(bucket: str) -> tuple[str, ...]:
    return ("gcloud", "storage", "buckets", "get-iam-policy", f"gs://{bucket}", "--format=json")


def _object_grant(who: str, bucket: str, name: str) -> Grant:
    resource = f"projects/_/buckets/{bucket}/objects/{name}"
    expression = f'resource.name == "{_cel_string(resource)}"'
    title = f"okta-hook reads {name}"[:100]
    fields = f"expression={expression}", f"title={title}"
    delimiter = next((d for d in _DELIMITERS if not any(d in f for f in fields)), None)
    if delimiter is None:
        raise ValueError(f"gs://{bucket}/{name}: no delimiter left for gcloud's --condition")
    condition = delimiter.join(fields)
    if delimiter != ",":
        condition = f"^{delimiter}^{condition}"
    return Grant(
        f"gs://{bucket}/{name}",
        "this object alone (IAM condition on its name)",
        ("gcloud", "storage", "buckets", "add-iam-policy-binding", f"gs://{bucket}",
         f"--member={who}", f"--role={OBJECT_VIEWER}", f"--condition={condition}"),
        _bucket_policy(bucket),
        who,
        OBJECT_VIEWER,
        expression,
    )  # fmt: skip


def _cel_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def plan(grants: Iterable[Grant]) -> list[str]:
    """What the deploy's plan shows: one line per grant."""
    return [f"grant read of {g.reads}: {g.scope}" for g in grants]
