"""The send budget never goes over and, kept busy, uses almost all of itself."""

from __future__ import annotations

import random

from bot.domain.budget import SendLimiter


def drive(limiter: SendLimiter, seconds: float) -> list[float]:
    now, sent = 0.0, []
    while now < seconds:
        wait = limiter.delay(now)
        now += wait
        if now >= seconds:
            break
        limiter.record(now)
        sent.append(now)
    return sent


def test_never_more_than_per_minute_in_any_window() -> None:
    for per_minute, jitter in ((20, 0.3), (60, 1.0), (3, 0.0)):
        sent = drive(SendLimiter(per_minute, jitter=jitter, rng=random.Random(1)), 3600)
        j = 0
        for i, t in enumerate(sent):  # sliding 60-second window ending at each send
            while sent[j] <= t - 60:
                j += 1
            assert i - j + 1 <= per_minute


def test_uses_at_least_95_percent_of_the_budget() -> None:
    sent = drive(SendLimiter(20, jitter=0.3, rng=random.Random(2)), 3600)
    assert len(sent) >= 0.95 * 20 * 60


def test_jitter_varies_the_gaps() -> None:
    sent = drive(SendLimiter(20, jitter=0.3, rng=random.Random(3)), 600)
    gaps = {round(b - a, 3) for a, b in zip(sent, sent[1:])}
    assert len(gaps) > 10 and min(gaps) >= 3.0 * 0.85 - 1e-9
