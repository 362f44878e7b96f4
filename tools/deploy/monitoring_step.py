"""The log-based metrics, alert policies and dashboard of monitoring/, made to match the files:
each created when missing and updated when it differs (tools/monitoring.py), so that a second
run changes nothing. `--no-monitoring` leaves them out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools import monitoring
from tools.deploy.checks import WHOLE_NUMBER
from tools.deploy.options import Options
from tools.deploy.output import CommandFailed, Refused, say, step
from tools.deploy.runner import Runner


def monitoring_options(o: Options) -> monitoring.Options:
    """The monitoring options, checked before anything runs; raises `Refused`."""
    hours = None
    if o.no_requests_hours:
        if not WHOLE_NUMBER.fullmatch(o.no_requests_hours):
            raise Refused(f"--no-requests-hours {o.no_requests_hours} is not a whole number")
        hours = int(o.no_requests_hours)
    try:
        return monitoring.Options(o.project, o.function, o.notification_channel, hours)
    except monitoring.MonitoringInputError as e:
        raise Refused(str(e)) from None


def monitoring_step(o: Options, runner: Runner, work: Path) -> None:
    step("Monitoring: log-based metrics, alert policies, dashboard")
    if o.no_monitoring:
        say("none: --no-monitoring")
        return
    options = monitoring_options(o)
    found: list[list[dict[str, Any]]] = []
    for argv in monitoring.read_commands(options):
        done = runner.check(argv)
        if runner.plan:
            found.append([])  # a first deploy: nothing there yet
        elif not done.ok:
            if not runner.dry_run:
                raise CommandFailed(done.status)
            # A dry run on a project whose APIs are not enabled yet: nothing there either.
            say("(the API is not enabled yet: nothing to compare with)")
            found.append([])
        else:
            found.append(_listed(done.text(), argv))
    metrics, policies, dashboards = found
    commands = monitoring.plan(options, metrics, policies, dashboards, work)
    if commands and runner.dry_run:
        say(f"(each file is monitoring/'s, rendered for {o.project} and {o.function})")
    if not o.notification_channel:
        say("note: no --notification-channel: incidents open in the console, nobody is told")
    if not commands:
        say("monitoring: as in monitoring/ already")
    for argv in commands:
        runner.change(argv)


def _listed(text: str, argv: list[str]) -> list[dict[str, Any]]:
    try:
        found = json.loads(text or "[]")
    except ValueError:
        found = None
    if not isinstance(found, list):
        raise Refused(f"{' '.join(argv[:4])} printed something other than a JSON list")
    return found
