"""monitoring/: each file is one of Google's own messages, and tools.monitoring turns them into the
exact gcloud commands that create what is missing and update what differs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import ParseError

from tests import monitoring_support as ms
from tests.logging_query import compile_query, extracted_field
from tools import monitoring
from tools.monitoring import MonitoringInputError, Options, Resource, plan, read_commands, resources

TESTS = Path(__file__).resolve().parent
ALERT_KEYS = ["error-rate", "latency", "no-requests", "unavailable"]
METRIC_NAMES = [
    "config-refusals", "decisions", "errors-5xx", "latency", "reasons", "requests", "retries",
    "shadow-reasons",
]  # fmt: skip


def test_every_file_is_a_google_message_with_no_unknown_field() -> None:
    found = resources(ms.OPTIONS)
    assert sorted(r.key for r in found if r.kind == "policy") == ALERT_KEYS
    assert sorted(ms.metrics()) == METRIC_NAMES
    for resource in found:
        ms.parsed(resource)


def test_a_field_google_does_not_know_is_refused() -> None:
    [dashboard] = [r for r in resources(ms.OPTIONS) if r.kind == "dashboard"]
    wrong = Resource("dashboard", "x", {**dashboard.body, "colour": "blue"})
    with pytest.raises(ParseError):
        ms.parsed(wrong)
    policy = ms.rendered("policy")["latency"]
    policy["conditions"][0]["conditionThreshold"]["thresholdValue"] = "one second"
    with pytest.raises(ParseError):
        ms.parsed(Resource("policy", "latency", policy))


def test_placeholders_are_filled() -> None:
    text = json.dumps([r.body for r in resources(ms.OPTIONS)])
    assert "${FUNCTION}" not in text
    assert "${PROJECT}" not in text
    assert "${NO_REQUESTS" not in text
    # Monitoring's own legend variables stay.
    assert "${metric.label.decision}" in text
    policy = ms.rendered("policy")["no-requests"]
    assert policy["conditions"][0]["conditionAbsent"]["duration"] == "21600s"
    assert policy["displayName"] == f"{ms.FUNCTION}: no requests for 6 hours"
    assert (
        ms.rendered("dashboard")[ms.FUNCTION]["name"]
        == f"projects/{ms.PROJECT}/dashboards/{ms.FUNCTION}"
    )


def test_notification_channels_are_the_ones_given() -> None:
    two = (ms.CHANNEL, f"projects/{ms.PROJECT}/notificationChannels/7")
    for body in ms.rendered("policy", Options(ms.PROJECT, ms.FUNCTION, two)).values():
        assert body["notificationChannels"] == list(two)
    for body in ms.rendered("policy", Options(ms.PROJECT, ms.FUNCTION)).values():
        assert "notificationChannels" not in body  # no channel: incidents show in the console


def test_the_no_requests_alert_is_optional() -> None:
    without = ms.rendered("policy", Options(ms.PROJECT, ms.FUNCTION, (ms.CHANNEL,)))
    assert sorted(without) == ["error-rate", "latency", "unavailable"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"project": "Not_A_Project"}, "--project"),
        ({"function": "Okta Hook"}, "--function"),
        ({"notification_channels": ("projects/p/notificationChannels/1; rm -rf /",)}, "--notification-channel"),
        ({"no_requests_hours": 0}, "--no-requests-hours"),
        ({"no_requests_hours": 24}, "--no-requests-hours"),
    ],
)  # fmt: skip
def test_options_are_checked(changes: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"project": ms.PROJECT, "function": ms.FUNCTION, **changes}
    with pytest.raises(MonitoringInputError, match=message):
        Options(**arguments)


def test_alerts_and_dashboard_name_only_metrics_and_labels_that_exist() -> None:
    defined = {
        ms.metric_type(name): {label["key"] for label in body["metricDescriptor"].get("labels", [])}
        for name, body in ms.metrics().items()
    }
    defined["run.googleapis.com/container/instance_count"] = {"state"}
    filters: list[tuple[str, list[str]]] = []
    for policy in ms.rendered("policy").values():
        for condition in policy["conditions"]:
            spec = condition.get("conditionThreshold") or condition["conditionAbsent"]
            groups = [f for a in spec["aggregations"] for f in a.get("groupByFields", [])]
            filters.append((spec["filter"], groups))
            if "denominatorFilter" in spec:
                filters.append((spec["denominatorFilter"], []))
    for tile in ms.rendered("dashboard")[ms.FUNCTION]["mosaicLayout"]["tiles"]:
        for data_set in tile["widget"]["xyChart"]["dataSets"]:
            query = data_set["timeSeriesQuery"]["timeSeriesFilter"]
            filters.append((query["filter"], query["aggregation"].get("groupByFields", [])))
    used = set()
    for text, groups in filters:
        kind = text.split('metric.type="', 1)[1].split('"', 1)[0]
        assert kind in defined, text
        used.add(kind)
        labels = set(re.findall(r"metric\.label\.([a-z_]+)", text))
        labels |= {group.removeprefix("metric.label.") for group in groups}
        assert labels <= defined[kind], (text, labels)
    # Every metric is read by an alert or the dashboard.
    assert used == set(defined)


def test_metric_labels_are_extracted_from_fields_the_filter_selects() -> None:
    for name, body in ms.metrics().items():
        descriptor = body["metricDescriptor"]
        assert {label["key"] for label in descriptor.get("labels", [])} == set(
            body.get("labelExtractors", {})
        ), name
        compile_query(body["filter"])  # within the evaluated subset
        for expression in body.get("labelExtractors", {}).values():
            assert extracted_field(expression).startswith("jsonPayload.")
    latency = ms.metrics()["latency"]
    assert latency["metricDescriptor"]["valueType"] == "DISTRIBUTION"
    assert latency["valueExtractor"] == "EXTRACT(jsonPayload.latency_ms)"
    # The alert's threshold and Okta's timeout are bucket bounds: p99 over 1 s is read exactly.
    bounds = latency["bucketOptions"]["explicitBuckets"]["bounds"]
    assert 1000 in bounds
    assert 3000 in bounds
    assert bounds == sorted(bounds)


def test_the_read_commands() -> None:
    assert read_commands(ms.OPTIONS) == [
        ["gcloud", "logging", "metrics", "list", "--project", ms.PROJECT, "--format=json"],
        ["gcloud", "monitoring", "policies", "list", "--project", ms.PROJECT, "--format=json"],
        ["gcloud", "monitoring", "dashboards", "list", "--project", ms.PROJECT, "--format=json"],
    ]


def test_an_empty_project_gets_everything_created(tmp_path: Path) -> None:
    commands = plan(ms.OPTIONS, [], [], [], tmp_path)
    project = ["--project", ms.PROJECT]
    expected = [
        ["gcloud", "logging", "metrics", "create", f"{ms.FUNCTION}-{name}", *project,
         f"--config-from-file={tmp_path}/metric-{ms.FUNCTION}-{name}.json"]
        for name in METRIC_NAMES
    ] + [
        ["gcloud", "monitoring", "policies", "create", *project,
         f"--policy-from-file={tmp_path}/policy-{key}.json"]
        for key in ALERT_KEYS
    ] + [
        ["gcloud", "monitoring", "dashboards", "create", *project,
         f"--config-from-file={tmp_path}/dashboard-{ms.FUNCTION}.json"]
    ]  # fmt: skip
    assert commands == expected
    for resource in resources(ms.OPTIONS):
        path = tmp_path / f"{resource.kind}-{resource.key}.json"
        assert json.loads(path.read_text()) == resource.body


class FakeGcloud:
    """`gcloud` on PATH is tests/fake_gcloud.py, which records each call and keeps a project."""

    def __init__(self, base: Path) -> None:
        self.bin = base / "bin"
        self.bin.mkdir()
        shim = self.bin / "gcloud"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{TESTS / "fake_gcloud.py"}" "$@"\n')
        shim.chmod(0o755)
        self.state = base / "state.json"
        self.state.write_text(json.dumps({"project": ms.PROJECT}))
        self.log = base / "gcloud.log"
        self.base = base

    def run(self, argv: list[str]) -> str:
        env = {
            **os.environ,
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "FAKE_GCLOUD_STATE": str(self.state),
            "FAKE_GCLOUD_LOG": str(self.log),
        }
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def apply(self, options: Options, out: str) -> list[list[str]]:
        """What a deploy step would do: read, plan, run the plan; the plan's commands."""
        metrics, policies, dashboards = (
            json.loads(self.run(command)) for command in read_commands(options)
        )
        directory = self.base / out
        directory.mkdir()
        commands = plan(options, metrics, policies, dashboards, directory)
        for command in commands:
            self.run(command)
        return commands

    def stored(self, kind: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.state.read_text()).get(kind, {})
        return found


def test_a_second_run_changes_nothing_and_a_change_updates_only_what_differs(
    tmp_path: Path,
) -> None:
    cloud = FakeGcloud(tmp_path)
    first = cloud.apply(ms.OPTIONS, "first")
    assert len(first) == len(METRIC_NAMES) + len(ALERT_KEYS) + 1
    assert len(cloud.stored("log_metrics")) == len(METRIC_NAMES)
    assert len(cloud.stored("alert_policies")) == len(ALERT_KEYS)
    # The fake gcloud saw exactly the commands, and each file as it was given.
    calls = cloud.calls()
    assert [c["argv"] for c in calls[3:]] == first
    assert all("file" in c for c in calls[3:])

    assert cloud.apply(ms.OPTIONS, "second") == []

    channel = f"projects/{ms.PROJECT}/notificationChannels/99"
    changed = Options(ms.PROJECT, ms.FUNCTION, (channel,), no_requests_hours=6)
    third = cloud.apply(changed, "third")
    assert [c[:4] for c in third] == [["gcloud", "monitoring", "policies", "update"]] * 4
    names = sorted(c[4] for c in third)
    assert names == sorted(cloud.stored("alert_policies"))
    for policy in cloud.stored("alert_policies").values():
        assert policy["notificationChannels"] == [channel]

    # Someone edits the dashboard in the console: it is put back, with the etag it had.
    state = json.loads(cloud.state.read_text())
    [(name, dashboard)] = state["dashboards"].items()
    dashboard["displayName"] = "edited"
    cloud.state.write_text(json.dumps(state))
    fourth = cloud.apply(changed, "fourth")
    assert fourth == [
        ["gcloud", "monitoring", "dashboards", "update", ms.FUNCTION, "--project", ms.PROJECT,
         f"--config-from-file={tmp_path}/fourth/dashboard-{ms.FUNCTION}.json"]
    ]  # fmt: skip
    assert (
        json.loads((tmp_path / "fourth" / f"dashboard-{ms.FUNCTION}.json").read_text())["etag"]
        == dashboard["etag"]
    )
    assert cloud.apply(changed, "fifth") == []


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert monitoring.main(["reads", "--project", ms.PROJECT]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == read_commands(Options(ms.PROJECT, ms.FUNCTION))
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    argv = ["plan", "--project", ms.PROJECT, "--notification-channel", ms.CHANNEL,
            "--metrics", str(empty), "--policies", str(empty), "--dashboards", str(empty),
            "--out", str(tmp_path)]  # fmt: skip
    assert monitoring.main(argv) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    options = Options(ms.PROJECT, ms.FUNCTION, (ms.CHANNEL,))
    assert lines == plan(options, [], [], [], tmp_path)
    assert monitoring.main(["plan", "--project", ms.PROJECT]) == 2
    assert "plan needs" in capsys.readouterr().err


def test_what_google_adds_or_leaves_out_is_no_difference() -> None:
    want = {"a": {"b": 1, "c": "0s", "d": 0, "e": False, "f": ""}, "g": [{"h": 1.0}], "i": True}
    have = {"a": {"b": "1", "extra": "x"}, "g": [{"h": 1, "name": "n"}], "i": True, "etag": "e"}
    assert monitoring.same(want, have)
    assert not monitoring.same({"i": True}, {"i": False})
    assert not monitoring.same({"g": [1, 2]}, {"g": [1]})
    assert not monitoring.same({"a": "x"}, {"a": "y"})
    assert not monitoring.same({"a": 2}, {"a": "two"})
    assert not monitoring.same({"a": "1s"}, {})
