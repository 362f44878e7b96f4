"""The shapes of names in an answer to Okta: profile attribute names and reason codes."""

from __future__ import annotations

import re

REASON = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")
