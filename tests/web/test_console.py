"""The console as a secretary, a leader and a viewer would use it: sign in, look, act, export."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from storage.models import AuditRow, OutboxRow, TicketRow, WebSessionRow

GRID1 = "江桥花苑3号楼微网格"  # JQS-01-03, in 第一网格
GRID2 = "老村东片微网格"  # JQS-02-01, in 第二网格
TENANT = "sim:3-201 王芳"


def csrf_of(html: str) -> str:
    return re.search(r"name='csrf' value='([^']+)'", html).group(1)


async def ticket_numbers(web):
    async with web.bot.db.unit_of_work() as s:
        return {t.node_code: t.number for t in await s.scalars(select(TicketRow))}


async def test_pages_need_a_login_and_bad_passwords_are_limited(web):
    answer = await web.client.get("/console/tickets", allow_redirects=False)
    assert answer.status == 302 and answer.headers["Location"].startswith("/login")
    for _ in range(5):
        assert (await web.login("chenli", "wrong password")).status == 401
    assert (await web.login("chenli")).status == 429  # even the right password waits now
    ok = await web.login("shuji")
    assert ok.status == 302
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "gridbot_session=" in cookie
    assert (await web.client.get("/console")).status == 200
    async with web.bot.db.unit_of_work() as s:
        assert await s.scalar(select(func.count()).select_from(WebSessionRow)) == 1
        assert "correct horse" not in " ".join(str(r.detail) for r in await s.scalars(select(AuditRow)))


async def test_a_leader_sees_their_grid_and_gets_403_elsewhere(web):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    await web.say(GRID2, "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了")
    numbers = await ticket_numbers(web)
    await web.login("chenli")
    listing = await (await web.client.get("/console/tickets")).text()
    assert f"#{numbers['JQS-01-03']}" in listing and f"#{numbers['JQS-02-01']}" not in listing
    other = await web.client.get(f"/console/tickets/{numbers['JQS-02-01']}")
    assert other.status == 403
    mine = await web.client.get(f"/console/tickets/{numbers['JQS-01-03']}")
    csrf = csrf_of(await mine.text())
    refused = await web.client.post(f"/console/tickets/{numbers['JQS-02-01']}", allow_redirects=False,
                                    data={"csrf": csrf, "action": "resolve", "note": "越权"})
    assert refused.status == 403
    assert (await web.client.get("/console/tickets?node=JQS-02")).status == 403
    async with web.bot.db.unit_of_work() as s:
        states = {t.number: t.state for t in await s.scalars(select(TicketRow))}
        denied = list(await s.scalars(select(AuditRow).where(AuditRow.allowed.is_(False))))
    assert states[numbers["JQS-02-01"]] == "new"  # nothing changed
    assert denied and denied[0].username == "chenli"


async def test_resolving_in_the_console_tells_the_group_like_the_chat_command(web):
    room = await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    number = (await ticket_numbers(web))["JQS-01-03"]
    await web.login("chenli")
    page = await (await web.client.get(f"/console/tickets/{number}")).text()
    no_csrf = await web.client.post(f"/console/tickets/{number}", data={"action": "accept"}, allow_redirects=False)
    assert no_csrf.status == 403
    for action, note in (("accept", ""), ("resolve", "已更换灯泡")):
        done = await web.client.post(f"/console/tickets/{number}", allow_redirects=False,
                                     data={"csrf": csrf_of(page), "action": action, "note": note})
        assert done.status == 302
    await web.bot.settle(web.clock)
    said = [m.text for m in room.history if m.from_bot]
    assert any(f"#{number}" in t and "已受理" in t for t in said)
    assert any(f"#{number}" in t and "已办结" in t and "已更换灯泡" in t for t in said)
    async with web.bot.db.unit_of_work() as s:
        assert (await s.scalar(select(TicketRow.state).where(TicketRow.number == number))) == "resolved"
        actions = [r.action for r in await s.scalars(select(AuditRow).order_by(AuditRow.id))]
    assert "accept" in actions and "resolve" in actions


async def test_resident_text_is_shown_as_text(web):
    await web.say(GRID1, TENANT, "<script>alert(1)</script>\"><img src=x onerror=alert(2)> 3号楼楼道灯坏了")
    number = (await ticket_numbers(web))["JQS-01-03"]
    await web.login("shuji")
    for url in ("/console/tickets", f"/console/tickets/{number}", "/console"):
        html = await (await web.client.get(url)).text()
        assert "<script>alert" not in html and "<img src=x" not in html
    html = await (await web.client.get(f"/console/tickets/{number}")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html


async def test_exports_as_csv_and_excel(web):
    await web.say(GRID1, TENANT, "=HYPERLINK(\"x\") 3号楼楼道灯坏了")
    await web.say(GRID2, "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了")
    await web.login("chenli")
    answer = await web.client.get("/console/export.csv")
    text = (await answer.read()).decode("utf-8-sig")
    assert answer.headers["Content-Disposition"].endswith("tickets.csv")
    lines = text.strip().splitlines()
    assert lines[0].startswith("编号,状态,类别") and len(lines) == 2  # only the leader's grid
    assert "'=HYPERLINK" in text  # a formula stays text
    book = load_workbook(io.BytesIO(await (await web.client.get("/console/export.xlsx")).read()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and len(rows) == 2 and rows[1][4] == "JQS-01-03"


async def test_exports_mask_numbers_for_accounts_that_do_not_answer_for_the_ticket(web):
    text = "东头的垃圾堆了好几天没人清，都臭了，联系我13912345678"
    await web.say(GRID2, "sim:东头12号 陈老板", text)
    await web.login("kan")  # a viewer of 第二网格: sees the ticket, not the number
    csv_text = (await (await web.client.get("/console/export.csv")).read()).decode("utf-8-sig")
    assert "139****5678" in csv_text and "13912345678" not in csv_text
    book = load_workbook(io.BytesIO(await (await web.client.get("/console/export.xlsx")).read()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[1][6] == "东头的垃圾堆了好几天没人清，都臭了，联系我139****5678"
    await web.login("shuji")  # the community secretary answers for every ticket
    csv_text = (await (await web.client.get("/console/export.csv")).read()).decode("utf-8-sig")
    assert text in csv_text
    book = load_workbook(io.BytesIO(await (await web.client.get("/console/export.xlsx")).read()))
    assert list(book.active.iter_rows(values_only=True))[1][6] == text


async def test_a_notice_from_the_console_fans_out_and_shows_progress(web):
    await web.login("chenli")
    page = await (await web.client.get("/console/notices")).text()
    form = {"csrf": csrf_of(page), "node": "JQS-01", "text": "本周六上午消防演练", "deadline": "", "tier": "楼道"}
    shown = await web.client.post("/console/notices", allow_redirects=False, data=form)
    assert shown.status == 200 and "确认发送" in await shown.text()  # the first POST only shows what it will do
    posted = await web.client.post("/console/notices", allow_redirects=False, data={**form, "confirm": "1"})
    assert posted.status == 302
    async with web.bot.db.unit_of_work() as s:
        copies = list(await s.scalars(select(OutboxRow.to_id).where(OutboxRow.kind == "notice")))
    assert len(copies) == 6 and all("单元楼道群" in c for c in copies)  # only the 楼道 tier of 第一网格
    await web.bot.settle(web.clock)
    progress = await (await web.client.get("/console/notices/progress")).json()
    assert list(progress.values())[0]["delivered"] == 6
    await web.login("kan")  # a viewer may read but not post
    page = await (await web.client.get("/console/notices")).text()
    assert "发通知" not in page
    # nor read (or export) a notice that never reached their grid
    assert (await web.client.get("/console/notices/1")).status == 404
    assert (await web.client.get("/console/notices/1/export.xlsx")).status == 404


async def test_overview_tree_digest_and_audit(web):
    await web.say(GRID1, TENANT, "3号楼燃气味很重 快来人")
    await web.login("shuji")
    overview = await (await web.client.get("/console")).text()
    assert "紧急未办结" in overview and "燃气味很重" in overview
    tree = await (await web.client.get("/console/tree")).text()
    assert "JQS-01-03" in tree and "未办结 1" in tree
    digest = await (await web.client.get("/console/digest?node=JQS&period=day")).text()
    assert "【江桥社区·日报】" in digest
    assert (await web.client.get("/console/audit")).status == 200
    await web.login("chenli")
    assert (await web.client.get("/console/audit")).status == 403
    assert (await web.client.get("/console/digest?node=JQS-02")).status == 403
