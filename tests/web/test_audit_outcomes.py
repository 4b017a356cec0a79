"""The audit log tells the true outcome (允许 / 拒绝 / 失败) of what each account attempted, in Chinese."""

from __future__ import annotations

from sqlalchemy import select

from bot.tickets.desk import TicketDesk
from storage.models import AuditRow, WebSessionRow
from tests.web.test_console import GRID1, GRID2, TENANT, csrf_of, ticket_numbers


async def audit_rows(web) -> list[AuditRow]:
    async with web.bot.db.unit_of_work() as s:
        return list(await s.scalars(select(AuditRow).order_by(AuditRow.id)))


async def test_a_refused_accept_is_logged_as_refused_with_the_reason(web):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    await web.login("chenli")
    number = (await ticket_numbers(web))["JQS-01-03"]
    page = await (await web.client.get(f"/console/tickets/{number}")).text()
    for _ in range(2):  # the second accept is refused by the desk: the ticket is accepted already
        await web.client.post(f"/console/tickets/{number}", data={"csrf": csrf_of(page), "action": "accept"})
    accepts = [r for r in await audit_rows(web) if r.action == "accept"]
    assert [(r.outcome, r.allowed) for r in accepts] == [("allowed", True), ("refused", False)]
    assert accepts[1].detail  # what the desk answered
    await web.login("shuji")
    log = await (await web.client.get("/console/audit")).text()
    assert "受理" in log and "拒绝" in log and "允许" in log and f"工单 #{number}" in log and "登录" in log


async def test_a_forbidden_post_is_logged_as_the_attempt_not_a_view(web):
    await web.say(GRID2, "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了")
    number = (await ticket_numbers(web))["JQS-02-01"]
    await web.login("chenli")  # 第一网格's leader: 第二网格's ticket is not theirs
    async with web.bot.db.unit_of_work() as s:  # the session's own token: only the scope check refuses
        csrf = await s.scalar(select(WebSessionRow.csrf))
    refused = await web.client.post(f"/console/tickets/{number}", data={"csrf": csrf, "action": "resolve",
                                                                        "note": "越权"})
    assert refused.status == 403
    [row] = [r for r in await audit_rows(web) if r.username == "chenli" and r.action != "login"]
    assert (row.action, row.target, row.outcome, row.detail) == ("resolve", f"ticket:{number}", "refused", "越权")


async def test_a_failed_action_is_logged_as_failed(web, monkeypatch):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    await web.login("chenli")
    number = (await ticket_numbers(web))["JQS-01-03"]
    html = await (await web.client.get(f"/console/tickets/{number}")).text()

    async def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(TicketDesk, "act", broken)
    answer = await web.client.post(f"/console/tickets/{number}", data={"csrf": csrf_of(html), "action": "accept"})
    assert answer.status == 500
    [row] = [r for r in await audit_rows(web) if r.action == "accept"]
    assert (row.outcome, row.allowed, row.detail) == ("failed", False, "RuntimeError")


async def test_login_attempts_and_a_viewer_trying_to_act_are_refused_in_chinese(web):
    await web.login("chenli", "wrong password")
    await web.login("kan")
    async with web.bot.db.unit_of_work() as s:  # a viewer has no buttons: post with the session's token anyway
        csrf = await s.scalar(select(WebSessionRow.csrf))
    answer = await web.client.post("/console/review/1", data={"csrf": csrf, "decision": "register"})
    assert answer.status == 403
    rows = [(r.username, r.action, r.outcome) for r in await audit_rows(web)]
    assert ("chenli", "login", "refused") in rows and ("kan", "login", "allowed") in rows
    assert ("kan", "review_register", "refused") in rows
