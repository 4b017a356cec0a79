"""`#日报` / `#周报` in chat, `gridbot digest` on the command line, and the chart file."""

from __future__ import annotations

import asyncio
import struct
import warnings
from pathlib import Path

import pytest

from bot import chart as chart_module
from bot.chart import ChartError, find_cjk_font, render_chart
from bot.cli import main
from bot.domain.digest import DigestFigures, NoticeFigures, TicketFigures, calendar_period
from storage.session import Database
from tests.digests.fixture import TZ, build_day

ROOT = Path(__file__).resolve().parents[2]


async def ask(bot, sim, clock, topic, sender, text):
    room = sim.room_by_topic(topic)
    await sim.post(room.id, sender, text)
    await bot.settle(clock)
    return [m for m in room.history if m.from_bot][-1].text


async def test_a_grid_leader_gets_their_own_subtree(sim_bot, clock):
    bot, sim = sim_bot
    text = await ask(bot, sim, clock, "江桥社区第一网格群", "wxid_chenli", "#周报")
    assert text.startswith("【第一网格（江桥花苑）·周报】11月23日至11月29日")
    refused = await ask(bot, sim, clock, "江桥社区第一网格群", "wxid_chenli", "#日报 JQS-02")
    assert "不在您负责的范围内" in refused


async def test_the_secretary_may_look_at_any_node_and_residents_may_not(sim_bot, clock):
    bot, sim = sim_bot
    text = await ask(bot, sim, clock, "江桥社区工作群", "wxid_lihongmei", "＃日报 JQS-02")
    assert text.startswith("【第二网格（江桥老村）·日报】11月23日")
    resident = await ask(bot, sim, clock, "江桥花苑3号楼微网格", "sim:3-201 王芳", "#日报")
    assert "只发给负责人" in resident


def sample_with_db(tmp_path: Path) -> Path:
    config = tmp_path / "c.yaml"
    config.write_text((ROOT / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return config


def test_gridbot_digest_prints_the_day_and_draws_the_week(tmp_path, capsys, sample_config):
    config = sample_with_db(tmp_path)

    async def fill():
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/data/gridbot.db")
        (tmp_path / "data").mkdir(exist_ok=True)
        await db.upgrade()
        await build_day(db, sample_config)
        await db.dispose()

    asyncio.run(fill())
    assert main(["digest", "--config", str(config), "--period", "day", "--at", "2026-11-22"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("【江桥社区·日报】11月22日") and "新增 5 ↑3" in out and "138****" in out and "13812345678" not in out
    png = tmp_path / "week.png"
    assert main(["digest", "--config", str(config), "--node", "JQS-02", "--period", "week", "--at", "2026-11-20",
                 "--png", str(png)]) == 0
    assert capsys.readouterr().out.startswith("【第二网格（江桥老村）·周报】11月16日至11月22日")
    assert png.stat().st_size > 10_000
    assert main(["digest", "--config", str(config), "--node", "NOPE"]) == 2
    assert main(["digest", "--config", str(config), "--at", "22/11/2026"]) == 2


def figures():
    period = calendar_period("week", __import__("datetime").date(2026, 11, 22), TZ)
    days = [(period.start.date().fromordinal(period.start.date().toordinal() + i), i, i // 2) for i in range(7)]
    return DigestFigures("JQS", "江桥社区", period, TicketFigures(
        new=21, resolved=9, by_category={"safety": 3, "repair": 10, "assistance": 8}), NoticeFigures(), daily=days)


def test_the_chart_is_a_1200_by_800_png_with_no_missing_glyphs(tmp_path, caplog):
    path = tmp_path / "chart.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning (a missing glyph among them) fails the test
        render_chart(figures(), path, TZ)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1200, 800)
    assert len(data) > 20_000
    assert not [r for r in caplog.records if "glyph" in r.getMessage().lower()]


def test_no_cjk_font_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setattr(chart_module, "CJK_FONT_FILES", (str(tmp_path / "none.ttc"),))
    monkeypatch.delenv("GRIDBOT_CJK_FONT", raising=False)
    with pytest.raises(ChartError, match="fonts-wqy-microhei"):
        render_chart(figures(), tmp_path / "x.png", TZ)
    assert not (tmp_path / "x.png").exists()


def test_the_project_font_is_installed():
    assert find_cjk_font().is_file()
