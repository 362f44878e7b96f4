"""Okta retries once on a timeout or 5xx: remember recent eventIds so the audit line can say so."""

from __future__ import annotations

import threading
from collections import OrderedDict


class RecentEvents:
    """A bounded, thread-safe memory of the eventIds this instance has answered."""

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def seen_before(self, event_id: str | None) -> bool:
        """Record `event_id`; True when it was already recorded (a retry of the same call)."""
        if not event_id:
            return False
        with self._lock:
            if event_id in self._seen:
                self._seen.move_to_end(event_id)
                return True
            self._seen[event_id] = None
            if len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
            return False
