"""The console's overview: urgent and overdue first, the 14-day chart, the 待确认 queue and the notices collecting
replies, each in the account's part of the tree (both backends, through the bot as residents would reach it)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from storage.models import NoticeRow, TicketRow
from tests.web.test_console import GRID1, GRID2, TENANT

TZ = ZoneInfo("Asia/Shanghai")
GRID1_OTHER = "江桥花苑5幢微网格"  # JQS-01-04, in 第一网格 too
ROW = re.compile(r"<tr class='([^']*)' data-number='(\d+)' data-rank='(\d)'>")
DAY = re.compile(r"<g class='day' data-day='([\d-]+)' data-new='(\d+)' data-resolved='(\d+)'>\s*"
                 r"<title>(\d+)月(\d+)日：新增 (\d+)，办结 (\d+)</title>")


def listed(page: str) -> list[tuple[int, str]]:
    """The overview's ticket list, in order: (number, row classes)."""
    return [(int(number), classes) for classes, number, _ in ROW.findall(page)]


def tile(page: str, name: str) -> int:
    return int(re.search(rf"data-tile='{name}'><b>(\d+)</b>", page).group(1))


def chart(page: str) -> dict[str, tuple[int, int]]:
    """The chart's days, from each day's data attributes, checked against its <title>."""
    svg = page.split("<svg class='day-chart'")[1].split("</svg>")[0]
    assert "style=" not in svg and "<script" not in svg and "href" not in svg
    days = {}
    for day, new, resolved, month, dom, title_new, title_resolved in DAY.findall(svg):
        assert (int(month), int(dom)) == (int(day[5:7]), int(day[8:]))
        assert (new, resolved) == (title_new, title_resolved)
        days[day] = (int(new), int(resolved))
    return days


async def tickets_by_node(web) -> dict[str, TicketRow]:
    async with web.bot.db.unit_of_work() as s:
        return {t.node_code: t for t in await s.scalars(select(TicketRow))}


async def test_urgent_and_overdue_tickets_come_before_the_others(web):
    await web.say(GRID1, TENANT, "3号楼燃气味很重 快来人")  # urgent, the oldest
    await web.say(GRID2, "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了")  # made overdue below
    await web.say(GRID1_OTHER, "sim:5-601 林阿婆", "5幢电梯按钮坏了")  # an ordinary one, the newest
    tickets = await tickets_by_node(web)
    async with web.bot.db.unit_of_work() as s:
        await s.execute(update(TicketRow).where(TicketRow.id == tickets["JQS-02-01"].id)
                        .values(due_at=web.clock.now() - timedelta(hours=1)))
    await web.login("shuji")
    page = await (await web.client.get("/console")).text()
    order = listed(page)
    urgent, late, plain = (tickets[c].number for c in ("JQS-01-03", "JQS-02-01", "JQS-01-04"))
    assert [n for n, _ in order] == [urgent, late, plain]
    assert "urgent" in order[0][1] and "overdue" in order[1][1] and order[2][1] == ""
    assert (tile(page, "urgent"), tile(page, "overdue"), tile(page, "open")) == (1, 1, 3)
    # a grid leader: only 第一网格's tickets, counted and listed
    await web.login("chenli")
    page = await (await web.client.get("/console")).text()
    assert [n for n, _ in listed(page)] == [urgent, plain]
    assert (tile(page, "urgent"), tile(page, "overdue"), tile(page, "open")) == (1, 0, 2)
    assert "垃圾堆" not in page


async def test_the_chart_counts_tickets_created_and_resolved_per_local_day(web):
    for topic, sender, text in ((GRID1, TENANT, "3号楼楼道灯坏了好几天了"),
                                (GRID1_OTHER, "sim:5-601 林阿婆", "5幢电梯按钮坏了"),
                                ("江桥花苑1号楼微网格", "sim:1-101 王芳", "1号楼门口下水道堵了"),
                                (GRID2, "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了")):
        await web.say(topic, sender, text)
    tickets = await tickets_by_node(web)
    now = web.clock.now()
    today = now.astimezone(TZ).date()

    def local(days_back: int, hour: int, minute: int) -> datetime:
        return datetime.combine(today - timedelta(days=days_back), datetime.min.time(), TZ).replace(
            hour=hour, minute=minute).astimezone(timezone.utc)

    moved = {  # late at night and just after midnight, Beijing time: a UTC day would count them elsewhere
        "JQS-01-03": {"created_at": local(3, 23, 30), "resolved_at": local(2, 0, 30), "state": "resolved"},
        "JQS-01-04": {"created_at": local(2, 7, 0), "resolved_at": local(0, 8, 0), "state": "resolved"},
        "JQS-01-01": {"created_at": local(20, 10, 0), "resolved_at": local(13, 0, 10), "state": "resolved"},
        "JQS-02-01": {"created_at": local(2, 0, 10)},
    }
    async with web.bot.db.unit_of_work() as s:
        for code, values in moved.items():
            await s.execute(update(TicketRow).where(TicketRow.id == tickets[code].id).values(**values))
    days = [(today - timedelta(days=n)).isoformat() for n in range(13, -1, -1)]

    async def expected(prefix: str) -> dict[str, tuple[int, int]]:
        counts = {day: [0, 0] for day in days}
        async with web.bot.db.unit_of_work() as s:
            for t in await s.scalars(select(TicketRow)):
                if not t.node_path.startswith(prefix):
                    continue
                for i, at in enumerate((t.created_at, t.resolved_at)):
                    day = at.astimezone(TZ).date().isoformat() if at is not None else None
                    if day in counts:
                        counts[day][i] += 1
        return {day: (n, r) for day, (n, r) in counts.items()}

    await web.login("shuji")
    shown = chart(await (await web.client.get("/console")).text())
    assert list(shown) == days
    assert shown == await expected("/JQS/")
    assert shown[days[-4]] == (1, 0) and shown[days[-3]] == (2, 1) and shown[days[0]] == (0, 1)
    await web.login("chenli")
    mine = chart(await (await web.client.get("/console")).text())
    assert mine == await expected("/JQS/JQS-01/") and mine[days[-3]] == (1, 1)  # 第二网格's ticket left out


def receipt_totals(text: str) -> tuple[int, int]:
    found = re.search(r"合计：(\d+)/(\d+) 户", text)
    assert found, text
    return int(found.group(1)), int(found.group(2))


def overview_notice(page: str, number: int) -> tuple[int, int, str]:
    found = re.search(rf"<li data-notice='{number}' data-households='(\d+)' data-acked='(\d+)' data-rate='(\d*)'>",
                      page)
    assert found, page
    return int(found.group(2)), int(found.group(1)), found.group(3)


async def test_a_notices_reply_rate_is_receipts(web):
    await web.sim.join(web.sim.room_by_topic("江桥花苑1号楼微网格").id, "sim:1-101 张伟", "1-101 张伟")
    work = await web.say("江桥社区工作群", "wxid_lihongmei", "#通知 本周六上午燃气安全检查，请各户在家配合")
    for topic, sender in (("江桥花苑1号楼微网格", "sim:1-101 王芳"), ("江桥花苑1号楼微网格", "sim:1-202 李强"),
                          ("江桥花苑1号楼微网格", "sim:1-101 张伟"),  # 王芳's household: one household, two people
                          ("1号楼1单元楼道群", "sim:1-1-201 周杰"), (GRID1, TENANT),
                          ("东头12号房东租客群", "sim:东头12号 陈老板")):
        await web.say(topic, sender, "收到")
    await web.say("江桥社区工作群", "wxid_lihongmei", "#回执 1")
    grid = await web.say("江桥社区第一网格群", "wxid_chenli", "#回执 1")
    whole = receipt_totals([m.text for m in work.history if m.from_bot and "合计" in m.text][-1])
    mine = receipt_totals([m.text for m in grid.history if m.from_bot and "合计" in m.text][-1])
    assert whole[0] == 5 and mine[0] == 4 and whole[1] > mine[1] > 0
    assert "6/" in [m.text for m in work.history if m.from_bot and "合计" in m.text][-1]  # people ≠ households
    for name, (acked, households) in (("shuji", whole), ("chenli", mine)):
        await web.login(name)
        page = await (await web.client.get("/console")).text()
        assert overview_notice(page, 1) == (acked, households, str(round(100 * acked / households)))
        assert f"回执 <b>{acked}/{households}</b> 户（{round(100 * acked / households)}%）" in page
        assert "href='/console/notices/1'" in page
    # past the acknowledgement window the notice no longer collects replies, and leaves the overview
    async with web.bot.db.unit_of_work() as s:
        await s.execute(update(NoticeRow).values(created_at=web.clock.now() - timedelta(days=8)))
    page = await (await web.client.get("/console")).text()
    assert "data-notice='1'" not in page and "没有发到您范围内的通知" in page
