"""The send budget: how fast one WeChat account may send without being throttled."""

from __future__ import annotations

import random
from collections import deque


class SendLimiter:
    """At most `per_minute` sends in any 60-second window, spaced evenly with random jitter.

    Times are plain seconds (any monotonic origin), so the limiter is pure and testable.
    """

    WINDOW = 60.0
    MARGIN = 0.001  # wait a millisecond past the window edge so rounding never lets one through early

    def __init__(self, per_minute: int, *, jitter: float = 0.3, rng: random.Random | None = None) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.jitter = jitter
        self.spacing = self.WINDOW / per_minute
        self._rng = rng or random.Random()
        self._sent: deque[float] = deque()
        self._next_gap = 0.0

    def delay(self, now: float) -> float:
        """Seconds to wait from `now` before the next send is allowed."""
        while self._sent and self._sent[0] <= now - self.WINDOW:
            self._sent.popleft()
        wait = 0.0
        if len(self._sent) >= self.per_minute:
            wait = self._sent[0] + self.WINDOW + self.MARGIN - now
        if self._sent:
            wait = max(wait, self._sent[-1] + self._next_gap - now)
        return max(0.0, wait)

    def record(self, now: float) -> None:
        """Note a send at `now` and draw the gap before the next one."""
        self._sent.append(now)
        self._next_gap = self.spacing * (1.0 + self.jitter * (self._rng.random() - 0.5))

    def used(self, now: float) -> int:
        """Sends in the last 60 seconds."""
        return sum(1 for t in self._sent if t > now - self.WINDOW)
