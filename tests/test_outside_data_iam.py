"""The grants deploy makes for the lists and secrets a policy names: exactly those objects and
secrets, and the bucket only where IAM Conditions are not available."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.outside_data_iam import buckets_of, grants, plan, uniform_access_check

SA = "okta-registration-hook@hook-project-1.iam.gserviceaccount.com"
MEMBER = f"--member=serviceAccount:{SA}"
LOCATIONS = [
    "gs://hook-lists/partners.txt",
    "gs://hook-lists/hr/staff.csv",
    "gs://shared-bucket/blocked.txt",
    "projects/hook-project-1/secrets/invitation-codes/versions/latest",
    "projects/123456789/secrets/hr-token/versions/3",
    "gs://hook-lists/partners.txt",
    "projects/hook-project-1/secrets/invitation-codes/versions/2",
    "gs://shared-bucket/other.txt",
]


def test_the_buckets_to_check_first() -> None:
    assert buckets_of(LOCATIONS) == ["hook-lists", "shared-bucket"]
    assert uniform_access_check("hook-lists") == (
        "gcloud", "storage", "buckets", "describe", "gs://hook-lists",
        "--format=value(uniform_bucket_level_access)",
    )  # fmt: skip


def test_exactly_the_named_objects_and_secrets() -> None:
    made = grants(SA, LOCATIONS, {"hook-lists": True, "shared-bucket": False})
    assert [g.argv for g in made] == [
        ("gcloud", "storage", "buckets", "add-iam-policy-binding", "gs://hook-lists", MEMBER,
         "--role=roles/storage.objectViewer",
         '--condition=expression=resource.name == "projects/_/buckets/hook-lists/objects/'
         'partners.txt",title=okta-hook reads partners.txt'),
        ("gcloud", "storage", "buckets", "add-iam-policy-binding", "gs://hook-lists", MEMBER,
         "--role=roles/storage.objectViewer",
         '--condition=expression=resource.name == "projects/_/buckets/hook-lists/objects/'
         'hr/staff.csv",title=okta-hook reads hr/staff.csv'),
        ("gcloud", "storage", "buckets", "add-iam-policy-binding", "gs://shared-bucket", MEMBER,
         "--role=roles/storage.objectViewer"),
        ("gcloud", "secrets", "add-iam-policy-binding", "invitation-codes",
         "--project=hook-project-1", MEMBER, "--role=roles/secretmanager.secretAccessor"),
        ("gcloud", "secrets", "add-iam-policy-binding", "hr-token", "--project=123456789", MEMBER,
         "--role=roles/secretmanager.secretAccessor"),
    ]  # fmt: skip
    assert plan(made) == [
        "grant read of gs://hook-lists/partners.txt: this object alone (IAM condition on its name)",
        "grant read of gs://hook-lists/hr/staff.csv: this object alone (IAM condition on its name)",
        "grant read of gs://shared-bucket/*: the whole bucket: uniform bucket-level access is "
        "off, so no IAM condition can narrow it (turn it on, or keep the lists in a bucket of "
        "their own)",
        "grant read of projects/hook-project-1/secrets/invitation-codes: this secret (all its "
        "versions)",
        "grant read of projects/123456789/secrets/hr-token: this secret (all its versions)",
    ]


def test_a_bucket_not_checked_is_taken_as_without_conditions() -> None:
    [grant] = grants(SA, ["gs://hook-lists/a.txt"], {})
    assert grant.reads == "gs://hook-lists/*"


@pytest.mark.parametrize(
    ("name", "condition"),
    [
        ('odd "name".txt',
         '--condition=expression=resource.name == "projects/_/buckets/b-1/objects/odd \\"name\\".txt"'
         ',title=okta-hook reads odd "name".txt'),
        ("a,b.txt",
         '--condition=^;^expression=resource.name == "projects/_/buckets/b-1/objects/a,b.txt"'
         ";title=okta-hook reads a,b.txt"),
        ("a,b;c.txt",
         '--condition=^#^expression=resource.name == "projects/_/buckets/b-1/objects/a,b;c.txt"'
         "#title=okta-hook reads a,b;c.txt"),
        ("back\\slash",
         '--condition=expression=resource.name == "projects/_/buckets/b-1/objects/back\\\\slash"'
         ",title=okta-hook reads back\\slash"),
    ],
)  # fmt: skip
def test_object_names_are_quoted_for_cel_and_for_gcloud(name: str, condition: str) -> None:
    [grant] = grants(SA, [f"gs://b-1/{name}"], {"b-1": True})
    assert grant.argv[-1] == condition


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("s3://b/o", "not a secret version name"),
        ("gs://b", "the bucket is not a bucket name"),
        ("projects/p/secrets/s", "not a secret version name"),
        ("/a/path", "not a secret version name"),
    ],
)
def test_a_location_that_is_neither_is_refused(location: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        grants(SA, [location], {})


def test_the_real_gcloud_reads_both_shapes_of_condition(tmp_path: Path) -> None:
    """With no account, gcloud stops at authentication, after it has parsed the flags: a
    condition it could not read would stop it earlier, naming the flag (no network needed)."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        pytest.skip("gcloud is not installed")
    env = {**os.environ, "CLOUDSDK_CONFIG": str(tmp_path), "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}
    # The two shapes of --condition; the bucket and secret bindings carry only plain flags.
    shapes = grants(SA, ["gs://b-1/a,b.txt", "gs://b-1/plain.txt"], {"b-1": True})
    for grant in shapes:
        done = subprocess.run(
            [gcloud, *grant.argv[1:]], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode != 0
        assert "authenticated account" in done.stderr, (grant.argv, done.stderr)
