"""Before a notice leaves the console: how many groups of which tiers, and how long it takes (the send budget, the
queue ahead and quiet hours); nothing is written or sent until the confirmation's POST."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from sqlalchemy import func, select

from storage.models import CounterRow, NoticeRow, OutboxRow
from tests.web.test_console import csrf_of


def tiers_under(tree, code):
    """Groups per tier under a node, walked here on its own (not through plan_fanout)."""
    counts = {}
    stack = [tree.node(code)]
    while stack:
        node = stack.pop()
        counts[node.tier] = counts.get(node.tier, 0) + len(node.rooms)
        stack.extend(tree.node(child) for child in node.children)
    return {tier: n for tier, n in counts.items() if n}


def plan_of(html):
    """{tier: groups} and the total from the confirmation page."""
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", html.split("<table class='plan-tiers'>")[1]
                      .split("</table>")[0])
    total = int(re.search(r"<b class='groups'>(\d+)</b>", html).group(1))
    return {tier: int(n) for tier, n in rows}, total


async def nothing_written(web):
    async with web.bot.db.unit_of_work() as s:
        return (await s.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == "notice")) == 0
                and await s.scalar(select(func.count()).select_from(NoticeRow)) == 0
                and await s.scalar(select(func.count()).select_from(CounterRow).where(CounterRow.name == "notice"))
                in (0, None))


async def test_the_confirmation_shows_groups_per_tier_and_sends_nothing_until_confirmed(web):
    await web.login("shuji")
    csrf = csrf_of(await (await web.client.get("/console/notices")).text())
    form = {"csrf": csrf, "node": "JQS-01", "text": "本周六上午消防演练", "deadline": ""}
    shown = await web.client.post("/console/notices", allow_redirects=False, data=form)
    html = await shown.text()
    expected = tiers_under(web.bot.config.tree, "JQS-01")
    per_tier, total = plan_of(html)
    assert per_tier == expected and total == sum(expected.values()) and len(expected) >= 3
    budget = web.bot.config.transport.send_budget.per_minute
    assert f"按每分钟 {budget} 条约需 {math.ceil(total / budget)} 分钟发完" in html and "夜间免打扰" not in html
    await web.bot.settle(web.clock)
    assert web.sim.sent == [] and await nothing_written(web)

    posted = await web.client.post("/console/notices", allow_redirects=False,
                                   data={**form, "csrf": re.search(r"name='csrf' value='([^']+)'", html).group(1),
                                         "confirm": "1"})
    assert posted.status == 302
    async with web.bot.db.unit_of_work() as s:
        copies = list(await s.scalars(select(OutboxRow.to_id).where(OutboxRow.kind == "notice")))
    assert len(copies) == total  # what the confirmation promised is what went out


async def test_in_quiet_hours_the_estimate_includes_the_hold_and_a_tier_is_counted_alone(web):
    local = web.clock.now().astimezone(web.bot.config.tz)
    await web.clock.advance_to(local.replace(hour=23, minute=0))
    await web.login("chenli")
    csrf = csrf_of(await (await web.client.get("/console/notices")).text())
    form = {"csrf": csrf, "node": "JQS-01", "text": "明早停电检修", "deadline": "", "tier": "楼道"}
    html = await (await web.client.post("/console/notices", allow_redirects=False, data=form)).text()
    per_tier, total = plan_of(html)
    assert per_tier == {"楼道": tiers_under(web.bot.config.tree, "JQS-01")["楼道"]} and total == per_tier["楼道"]
    assert "夜间免打扰，将于 07:00 开始发送" in html
    finish = (local.replace(hour=7, minute=0) + timedelta(days=1, minutes=math.ceil(
        total / web.bot.config.transport.send_budget.per_minute))).strftime("%m月%d日 %H:%M")
    assert f"预计 {finish} 前全部送达" in html
    urgent = await (await web.client.post("/console/notices", allow_redirects=False,
                                          data={**form, "urgent": "1"})).text()
    assert "夜间免打扰" not in urgent.split("<p class='estimate'>")[1].split("</p>")[0]
    assert await nothing_written(web)
