"""The trace fields of a log line, from W3C `traceparent` and Google's `X-Cloud-Trace-Context`."""

from __future__ import annotations

import pytest

from core.trace_context import SPAN_ID, TRACE, TRACE_SAMPLED, trace_fields
from tests.conftest import BASIC_PASSWORD, MakeClient, post, sample
from tests.test_logs import lines

PROJECT = "acme-hooks"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    ("traceparent", "cloud_trace", "expected"),
    [
        # W3C: the span id is already 16 hex digits; bit 0 of the flags is "sampled".
        (f"00-{TRACE_ID}-00f067aa0ba902b7-01", None, (TRACE_ID, "00f067aa0ba902b7", True)),
        (f"00-{TRACE_ID}-00f067aa0ba902b7-00", None, (TRACE_ID, "00f067aa0ba902b7", False)),
        (f" 00-{TRACE_ID}-00f067aa0ba902b7-03 ", None, (TRACE_ID, "00f067aa0ba902b7", True)),
        # A later version may carry more fields.
        (f"01-{TRACE_ID}-00f067aa0ba902b7-01-extra", None, (TRACE_ID, "00f067aa0ba902b7", True)),
        # X-Cloud-Trace-Context: the span id is decimal, converted; o=1 is sampled.
        (None, f"{TRACE_ID}/1;o=1", (TRACE_ID, "0000000000000001", True)),
        (None, f"{TRACE_ID}/12345678901234567890;o=0", (TRACE_ID, "ab54a98ceb1f0ad2", False)),
        (None, f"{TRACE_ID}/18446744073709551615", (TRACE_ID, "ffffffffffffffff", None)),
        (None, TRACE_ID.upper(), (TRACE_ID, None, None)),
        # A span id of 0 or past 64 bits is no span id; the trace still links.
        (None, f"{TRACE_ID}/0;o=1", (TRACE_ID, None, True)),
        (None, f"{TRACE_ID}/18446744073709551616;o=1", (TRACE_ID, None, True)),
        # traceparent wins when both are well formed; a malformed one gives way to the other.
        (
            f"00-{TRACE_ID}-00f067aa0ba902b7-01",
            f"{'1' * 32}/1;o=0",
            (TRACE_ID, "00f067aa0ba902b7", True),
        ),
        (
            f"00-{TRACE_ID.upper()}-00f067aa0ba902b7-01",
            f"{TRACE_ID}/2;o=1",
            (TRACE_ID, "0000000000000002", True),
        ),
    ],
)
def test_well_formed_headers(
    traceparent: str | None, cloud_trace: str | None, expected: tuple[str, str | None, bool | None]
) -> None:
    trace_id, span_id, sampled = expected
    fields = trace_fields(traceparent, cloud_trace, PROJECT)
    assert fields[TRACE] == f"projects/{PROJECT}/traces/{trace_id}"
    assert fields.get(SPAN_ID) == span_id
    assert fields.get(TRACE_SAMPLED) == sampled


@pytest.mark.parametrize(
    ("traceparent", "cloud_trace"),
    [
        ("", ""),
        (f"ff-{TRACE_ID}-00f067aa0ba902b7-01", None),  # version ff is invalid
        (f"00-{TRACE_ID}-00f067aa0ba902b7-01-extra", None),  # version 00 has four fields
        (f"00-{'0' * 32}-00f067aa0ba902b7-01", None),  # an all-zero trace id
        (f"00-{TRACE_ID}-{'0' * 16}-01", None),  # an all-zero parent id
        (f"00-{TRACE_ID.upper()}-00f067aa0ba902b7-01", None),  # uppercase hex
        (f"00-{TRACE_ID}-00f067aa0ba902b7", None),
        (f"00-{TRACE_ID}0-00f067aa0ba902b7-01", None),
        (None, "not-a-trace/1;o=1"),
        (None, f"{TRACE_ID}/1;o=2"),
        (None, f"{TRACE_ID}/-1"),
        (None, f"{TRACE_ID}/1a;o=1"),
        (None, f"{TRACE_ID[:-1]}/1"),
        (None, f"{'0' * 32}/1;o=1"),
        (None, f"{TRACE_ID}/1;o=1 trailing"),
    ],
)
def test_malformed_headers_give_no_trace_fields(
    traceparent: str | None, cloud_trace: str | None
) -> None:
    assert trace_fields(traceparent, cloud_trace, PROJECT) == {}


def test_no_project_no_trace_fields() -> None:
    assert trace_fields(f"00-{TRACE_ID}-00f067aa0ba902b7-01", f"{TRACE_ID}/1;o=1", None) == {}


def test_the_audit_line_carries_trace_span_and_sampling(
    make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(
        OKTA_HOOK_BASIC_CREDENTIALS=f"okta-test:{BASIC_PASSWORD}", GOOGLE_CLOUD_PROJECT=PROJECT
    )
    capsys.readouterr()
    post(
        client, sample("progressive"), headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
    )
    post(client, sample("progressive"), headers={"X-Cloud-Trace-Context": f"{TRACE_ID}/10;o=0"})
    w3c, google = lines(capsys)
    assert (w3c[TRACE], w3c[SPAN_ID], w3c[TRACE_SAMPLED]) == (
        f"projects/{PROJECT}/traces/{TRACE_ID}",
        "00f067aa0ba902b7",
        True,
    )
    assert (google[SPAN_ID], google[TRACE_SAMPLED]) == ("000000000000000a", False)
    # No httpRequest: Cloud Run's own request log has it, tied to this line by the trace.
    assert "httpRequest" not in w3c
