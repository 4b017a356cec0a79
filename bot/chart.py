"""The weekly chart as a PNG: raised vs resolved per day, and the week's reports by category.

Chinese labels need a CJK font. The project installs Debian's fonts-wqy-microhei (see the Makefile);
if no CJK font is found, drawing fails loudly instead of producing boxes.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain.digest import PERIOD_NAMES, DigestFigures
from bot.domain.tickets import CATEGORY_NAMES

# searched in order; GRIDBOT_CJK_FONT names another file
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)
WIDTH, HEIGHT, DPI = 1200, 800, 100


class ChartError(RuntimeError):
    """The chart cannot be drawn properly (no CJK font, or matplotlib missing)."""


def find_cjk_font() -> Path:
    candidates = [os.environ["GRIDBOT_CJK_FONT"]] if os.environ.get("GRIDBOT_CJK_FONT") else []
    for name in (*candidates, *CJK_FONT_FILES):
        if Path(name).is_file():
            return Path(name)
    raise ChartError("no CJK font found for the chart's Chinese labels; install one with "
                     "`apt-get install fonts-wqy-microhei` (make run / make test do this) "
                     "or set GRIDBOT_CJK_FONT to a .ttc/.ttf/.otf file")


def render_chart(figures: DigestFigures, path: Path, tz: ZoneInfo) -> Path:
    """Draw the digest's chart to `path` (PNG, 1200×800). Raises ChartError rather than draw boxes."""
    font_file = find_cjk_font()
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import font_manager
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ChartError(f"matplotlib is not installed: {exc}") from exc
    font_manager.fontManager.addfont(str(font_file))
    family = font_manager.FontProperties(fname=str(font_file)).get_name()
    style = {"font.family": [family], "axes.unicode_minus": False}
    t = figures.tickets
    with matplotlib.rc_context(style), warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph.*missing.*")  # a missing glyph is a failure
        figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
        figure.suptitle(f"{figures.node_name} {PERIOD_NAMES[figures.period.kind]}"
                        f"（{figures.period.label(tz)}）", fontsize=18)
        days, daily = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
        labels = [f"{d.month}/{d.day}" for d, _, _ in figures.daily]
        xs = list(range(len(labels)))
        days.bar([x - 0.2 for x in xs], [n for _, n, _ in figures.daily], width=0.4, label="新增", color="#e4572e")
        days.bar([x + 0.2 for x in xs], [r for _, _, r in figures.daily], width=0.4, label="办结", color="#4c9f70")
        days.set_xticks(xs, labels)
        days.set_title("每日新增与办结")
        days.set_ylabel("工单数")
        days.legend()
        days.set_ylim(bottom=0, top=max([1, *(max(n, r) for _, n, r in figures.daily)]) * 1.15)
        days.yaxis.set_major_locator(MaxNLocator(integer=True))
        items = sorted(t.by_category.items(), key=lambda i: i[1])
        if items:
            daily.barh([CATEGORY_NAMES.get(c, c) for c, _ in items], [n for _, n in items], color="#3d5a80")
            daily.xaxis.set_major_locator(MaxNLocator(integer=True))
        else:
            daily.set_xticks([])
            daily.set_yticks([])
            daily.text(0.5, 0.5, "本期没有新增工单", ha="center", va="center", fontsize=14, transform=daily.transAxes)
        daily.set_title("本期新增按类别")
        daily.set_xlabel("工单数")
        figure.text(0.5, 0.02, f"新增 {t.new}　办结 {t.resolved}　未办结 {t.open}　超时 {t.overdue}　"
                    f"按时办结 {round(100 * t.on_time / t.judged) if t.judged else 0}%　"
                    f"本级办结 {t.own_level}　上报 {t.escalated}", ha="center", fontsize=13)
        figure.subplots_adjust(left=0.07, right=0.97, top=0.86, bottom=0.14, wspace=0.35)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png", dpi=DPI)
    return path
