"""The overview's small chart of tickets created vs resolved per local day, as geometry for an inline <svg>.

Drawn on the server from numbers only (the template writes the <svg> with presentation attributes): no script,
no style attribute, nothing fetched, so it passes the console's CSP and works offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WIDTH, HEIGHT = 420, 200
LEFT, RIGHT, TOP, BOTTOM = 30, 6, 12, 26  # room for the axis labels


def local_days(today: date, count: int, tz: ZoneInfo) -> list[tuple[date, datetime, datetime]]:
    """The `count` local days ending with `today`, oldest first, each with its [start, end) (right across a DST
    change: a day is midnight to midnight in the zone, not 24 hours)."""
    days = [today - timedelta(days=n) for n in range(count - 1, -1, -1)]
    return [(d, datetime.combine(d, time(0), tz), datetime.combine(d + timedelta(days=1), time(0), tz)) for d in days]


@dataclass(frozen=True, slots=True)
class DayBars:
    """One day's two bars (created, resolved) and its label."""

    day: date
    new: int
    resolved: int
    x_new: float
    x_resolved: float
    y_new: float
    y_resolved: float
    h_new: float
    h_resolved: float
    label: str  # "5/1", or "" where labels would crowd
    label_x: float

    @property
    def title(self) -> str:
        return f"{self.day.month}月{self.day.day}日：新增 {self.new}，办结 {self.resolved}"


@dataclass(frozen=True, slots=True)
class DayChart:
    """The whole chart: its bars, the y axis' ticks and the totals, in the viewBox's units."""

    days: tuple[DayBars, ...]
    ticks: tuple[tuple[int, float], ...]  # (value, y)
    bar_width: float
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: float = WIDTH - RIGHT
    baseline: float = HEIGHT - BOTTOM

    @property
    def total_new(self) -> int:
        return sum(d.new for d in self.days)

    @property
    def total_resolved(self) -> int:
        return sum(d.resolved for d in self.days)

    @property
    def summary(self) -> str:
        return f"近 {len(self.days)} 天新增 {self.total_new} 件、办结 {self.total_resolved} 件"


def day_chart(days: Sequence[tuple[date, int, int]]) -> DayChart:
    """Bars for (day, created, resolved) oldest first; the newest day always has its label."""
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    top = _round_top(max([1, *(max(n, r) for _, n, r in days)]))
    slot = plot_w / max(1, len(days))
    bar = slot * 0.36
    every = 1 if len(days) <= 7 else 2
    bars = []
    for i, (day, new, resolved) in enumerate(days):
        x = LEFT + i * slot + slot / 2
        h_new, h_res = plot_h * new / top, plot_h * resolved / top
        shown = (len(days) - 1 - i) % every == 0
        bars.append(DayBars(day, new, resolved, round(x - bar, 1), round(x, 1), round(TOP + plot_h - h_new, 1),
                            round(TOP + plot_h - h_res, 1), round(h_new, 1), round(h_res, 1),
                            f"{day.month}/{day.day}" if shown else "", round(x, 1)))
    values = (0, top // 2, top) if top % 2 == 0 else (0, top)
    ticks = tuple((value, round(TOP + plot_h - plot_h * value / top, 1)) for value in values)
    return DayChart(tuple(bars), ticks, round(bar, 1))


def _round_top(highest: int) -> int:
    """The smallest of 1, 2, 4, 5, 10, 20, 40, 50, 100 … that is at least `highest` (halves stay whole)."""
    scale = 1
    while True:
        for step in (1, 2, 4, 5):
            if step * scale >= highest:
                return step * scale
        scale *= 10
