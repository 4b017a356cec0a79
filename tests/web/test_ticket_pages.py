"""The console's ticket pages (issue 18): node filter by name, photos behind a scope check, actions the state allows,
a Chinese timeline naming who acted, and a leader's bulk 受理 / 转派 — on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import re
import struct
import zlib

import pytest
from sqlalchemy import select

from bot.messages import MessageType
from bot.work import perform
from storage.models import AuditRow, MessageRow, TicketRow

GRID1 = "江桥花苑3号楼微网格"  # JQS-01-03, in 第一网格 (chenli's)
GRID2 = "老村东片微网格"  # JQS-02-01, in 第二网格 (kan's)
TENANT = "sim:3-201 王芳"


def png(width: int = 4, height: int = 3) -> bytes:
    """A real, tiny PNG (grey pixels), so that a browser can draw it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture
def sample_config(sample_config, tmp_path):
    """Photos saved under this test's own folder, not the checkout's data/."""
    return dataclasses.replace(sample_config, tickets=dataclasses.replace(
        sample_config.tickets, attachments_dir=str(tmp_path / "attachments")))


def csrf_of(html: str) -> str:
    return re.search(r"name='csrf' value='([^']+)'", html).group(1)


async def numbers_by_text(web) -> dict[str, int]:
    async with web.bot.db.unit_of_work() as s:
        return {t.text: t.number for t in await s.scalars(select(TicketRow))}


async def state_of(web, number: int) -> str:
    async with web.bot.db.unit_of_work() as s:
        return await s.scalar(select(TicketRow.state).where(TicketRow.number == number))


async def act(web, number: int, action: str, note: str = "") -> None:
    page = await (await web.client.get(f"/console/tickets/{number}")).text()
    done = await web.client.post(f"/console/tickets/{number}", allow_redirects=False,
                                 data={"csrf": csrf_of(page), "action": action, "note": note})
    assert done.status == 302


async def test_the_list_filters_by_a_node_name_and_says_when_a_name_fits_none(web):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    await web.say(GRID2, "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了")
    numbers = await numbers_by_text(web)
    mine, other = numbers["3号楼楼道灯坏了好几天了"], numbers["东头的垃圾堆了好几天没人清，都臭了"]
    await web.login("shuji")
    page = await web.client.get("/console/tickets", params={"node": "江桥花苑3号楼"})
    html = await page.text()
    assert page.status == 200 and f"#{mine}" in html and f"#{other}" not in html
    assert "<datalist id='node-names'>" in html and "<option value='老村东片自建房'>JQS-02-01</option>" in html
    part = await (await web.client.get("/console/tickets", params={"node": "老村东片"})).text()  # part of one name
    assert f"#{other}" in part and f"#{mine}" not in part
    code = await (await web.client.get("/console/tickets", params={"node": "JQS-01"})).text()
    assert f"#{mine}" in code and f"#{other}" not in code
    several = await web.client.get("/console/tickets", params={"node": "3号楼"})  # 江桥花苑3号楼, 3号楼1单元, …
    text = await several.text()
    assert several.status == 200 and "有 3 个节点的名称含“3号楼”" in text and f"#{mine}" not in text
    none = await web.client.get("/console/tickets", params={"node": "火星"})
    assert none.status == 200 and "没有叫“火星”的节点" in await none.text()
    await web.login("chenli")  # a name outside the leader's grid is no node of theirs
    theirs = await (await web.client.get("/console/tickets", params={"node": "老村东片自建房"})).text()
    assert "没有叫“老村东片自建房”的节点" in theirs and f"#{other}" not in theirs
    assert (await web.client.get("/console/export.csv", params={"node": "火星"})).status == 400


async def test_the_list_shows_assignee_and_deadline_and_marks_overdue(web):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    number = (await numbers_by_text(web))["3号楼楼道灯坏了好几天了"]
    async with web.bot.db.unit_of_work() as s:
        ticket = await s.scalar(select(TicketRow).where(TicketRow.number == number))
        assignee, due = web.bot.config.people[ticket.assignee].name, ticket.due_at
    await web.login("shuji")
    html = await (await web.client.get("/console/tickets")).text()
    local_due = due.astimezone(web.bot.config.tz).strftime("%m-%d %H:%M")
    assert f"<td data-label='负责人' class='assignee'>{assignee}</td>" in html
    assert f"<td data-label='期限' class='due'>{local_due}</td>" in html and "badge'>超时" not in html
    await web.clock.advance_to(due + (due - web.clock.now()))
    late = await (await web.client.get("/console/tickets")).text()
    assert f"<td data-label='期限' class='due late'>{local_due}</td>" in late
    assert "<span class='late badge'>超时</span>" in late


async def test_a_photo_is_a_thumbnail_for_those_who_may_see_the_ticket(web):
    room = await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    await web.sim.post(room.id, TENANT, "", type=MessageType.IMAGE, payload=png())
    await web.bot.settle(web.clock)
    number = (await numbers_by_text(web))["3号楼楼道灯坏了好几天了"]
    async with web.bot.db.unit_of_work() as s:
        image = await s.scalar(select(MessageRow).where(MessageRow.msg_type == "image"))
    url = f"/console/tickets/{number}/photos/{image.id}"
    await web.login("chenli")
    html = await (await web.client.get(f"/console/tickets/{number}")).text()
    assert f"<img class='thumb' src='{url}'" in html
    assert image.attachment not in html and "attachments" not in html  # no server path as text
    photo = await web.client.get(url)
    assert photo.status == 200 and photo.headers["Content-Type"] == "image/png"
    assert await photo.read() == png()
    await web.login("kan")  # a viewer of 第二网格
    refused = await web.client.get(url)
    assert refused.status == 403 and await refused.read() != png()
    web.client.session.cookie_jar.clear()
    assert (await web.client.get(url, allow_redirects=False)).status == 302  # to the login page
    assert (await web.client.get(f"/static/{image.attachment}")).status == 404


async def test_photo_urls_never_leave_the_attachments_folder(web, tmp_path):
    room = await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    await web.sim.post(room.id, TENANT, "", type=MessageType.IMAGE, payload=png())
    await web.bot.settle(web.clock)
    await web.say(GRID1, "sim:3-502 老赵", "3号楼电梯停了")
    numbers = await numbers_by_text(web)
    first, second = numbers["3号楼楼道灯坏了好几天了"], numbers["3号楼电梯停了"]
    outside = tmp_path / "secret.png"
    outside.write_bytes(png())
    async with web.bot.db.unit_of_work() as s:
        image = await s.scalar(select(MessageRow).where(MessageRow.msg_type == "image"))
        ticket_id = image.ticket_id
        planted = []
        for path in ("../../../../etc/passwd", str(outside), "attachments/../secret.png",
                     str(tmp_path / "attachments" / ".." / "secret.png")):
            row = MessageRow(**{c: getattr(image, c) for c in ("conversation_kind", "conversation_id", "sender_id",
                                                                "sender_name", "at", "msg_type", "room_key")},
                             direction="in", text="", ticket_id=ticket_id, attachment=path,
                             transport_message_id=f"planted-{len(planted)}")
            s.add(row)
            await s.flush()
            planted.append(row.id)
    await web.login("shuji")
    for message_id in planted:
        answer = await web.client.get(f"/console/tickets/{first}/photos/{message_id}")
        assert answer.status == 404 and await answer.read() != png()
    assert (await web.client.get(f"/console/tickets/{second}/photos/{image.id}")).status == 404  # not its photo
    for bad in ("..%2F..%2Fsecret.png", "%2e%2e", "1e3", "-1"):
        assert (await web.client.get(f"/console/tickets/{first}/photos/{bad}")).status == 404
    assert (await web.client.get(f"/console/tickets/{first}/photos/{image.id}")).status == 200


async def test_only_the_actions_the_state_allows_are_offered(web):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    number = (await numbers_by_text(web))["3号楼楼道灯坏了好几天了"]
    await web.login("chenli")

    async def buttons() -> list[str]:
        html = await (await web.client.get(f"/console/tickets/{number}")).text()
        return re.findall(r"<button name='action' value='(\w+)'>", html)

    assert await buttons() == ["accept", "resolve", "reassign", "escalate", "close"]
    await act(web, number, "accept")
    assert await buttons() == ["resolve", "reassign", "escalate", "close"]
    await act(web, number, "close", "重复反映")
    assert await state_of(web, number) == "closed"
    assert await buttons() == ["reopen"]  # no 受理 on a closed ticket


async def test_the_timeline_names_the_resident_the_handler_and_the_bot_in_chinese(web):
    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    await web.say(GRID1, "sim:3-502 老赵", "3号楼电梯停了")
    numbers = await numbers_by_text(web)
    light, lift = numbers["3号楼楼道灯坏了好几天了"], numbers["3号楼电梯停了"]
    await web.login("chenli")
    await act(web, light, "accept")
    await act(web, light, "resolve", "已更换灯泡")
    await web.say(GRID1, TENANT, "好了谢谢")
    assert await state_of(web, light) == "closed"
    html = await (await web.client.get(f"/console/tickets/{light}")).text()
    timeline = re.search(r"<ol class='timeline'>(.*?)</ol>", html, re.S).group(1)
    lines = [re.sub(r"<[^>]+>", "", re.sub(r"<time>.*?</time> ", "", li))
             for li in re.findall(r"<li.*?</li>", timeline)]
    assert lines[0] == "居民 3-201 王芳 反映问题，立为工单 · 3号楼楼道灯坏了好几天了"  # the resident's nickname
    assert "负责人 陈丽 受理" in lines and "负责人 陈丽 办结 · 已更换灯泡" in lines
    assert "居民 3-201 王芳 确认已解决 · 居民确认已解决" in lines
    assert not re.search(r"\b(open|accept|resolve|confirm)\b", timeline) and "系统" not in timeline

    async with web.bot.db.unit_of_work() as s:
        due = await s.scalar(select(TicketRow.due_at).where(TicketRow.number == lift))
    await web.clock.advance_to(due)
    await perform(web.bot.services, lambda work: work.tickets.check_deadlines(), what="deadlines")
    html = await (await web.client.get(f"/console/tickets/{lift}")).text()
    assert "<li class='by-bot'>" in html and "<span class='actor'>微格助手</span> <span class='what'>上报</span>" in html
    assert "<span class='actor'>居民 sim:3-502 老赵</span>" in html


async def test_a_leader_accepts_three_tickets_at_once_and_the_closed_one_is_refused(web):
    texts = ("3号楼楼道灯坏了好几天了", "3号楼电梯停了", "3号楼门口垃圾没人清")
    for n, text in enumerate(texts):
        await web.say(GRID1, f"sim:3-{n}01 住户{n}", text)
    await web.say(GRID2, "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了")
    numbers = await numbers_by_text(web)
    light, lift, litter = (numbers[t] for t in texts)
    elsewhere = numbers["东头的垃圾堆了好几天没人清，都臭了"]
    await web.login("chenli")
    await act(web, lift, "close", "重复反映")
    listing = await (await web.client.get("/console/tickets")).text()
    assert f"<input type='checkbox' name='number' value='{light}'" in listing
    assert "<form method='post' action='/console/tickets/bulk?'" in listing
    form = [("csrf", csrf_of(listing)), ("action", "accept"), ("target", "")]
    form += [("number", str(n)) for n in (light, lift, litter)]
    no_csrf = await web.client.post("/console/tickets/bulk", data=form[1:])
    assert no_csrf.status == 403
    answer = await web.client.post("/console/tickets/bulk", data=form)
    html = await answer.text()
    assert answer.status == 200
    assert "成功 <b class='bulk-done'>2</b> 张，未执行 <b class='bulk-refused'>1</b> 张" in html
    refused = re.search(rf"<li class='refused' data-number='{lift}'>(.*?)</li>", html).group(1)
    assert "已关闭" in refused and "不能受理" in refused
    assert [await state_of(web, n) for n in (light, lift, litter)] == ["accepted", "closed", "accepted"]
    await web.bot.settle(web.clock)
    said = [m.text for m in web.sim.room_by_topic(GRID1).history if m.from_bot]
    assert any(f"#{light}" in t and "已受理" in t for t in said) and any(f"#{litter}" in t and "已受理" in t for t in said)

    again = await web.client.post("/console/tickets/bulk", data=[
        ("csrf", csrf_of(listing)), ("action", "reassign"), ("target", "钱老师"),
        ("number", str(light)), ("number", str(elsewhere))])
    html = await again.text()
    assert "成功 <b class='bulk-done'>1</b> 张，未执行 <b class='bulk-refused'>1</b> 张" in html
    assert "不在您负责的范围内" in re.search(rf"data-number='{elsewhere}'>(.*?)</li>", html).group(1)
    async with web.bot.db.unit_of_work() as s:
        assert await s.scalar(select(TicketRow.assignee).where(TicketRow.number == light)) == "ld_1_1"
        assert await s.scalar(select(TicketRow.state).where(TicketRow.number == elsewhere)) == "new"
        audited = [(r.action, r.target, r.allowed) for r in await s.scalars(select(AuditRow).order_by(AuditRow.id))]
    assert ("accept", f"ticket:{light}", True) in audited
    await web.login("kan")  # a viewer acts on nothing
    assert "name='number'" not in await (await web.client.get("/console/tickets")).text()


async def test_the_ticket_page_shows_each_reporters_satisfaction(web):
    from datetime import timedelta

    from storage.models import SatisfactionRow

    await web.say(GRID1, TENANT, "3号楼楼道灯坏了好几天了")
    number = (await numbers_by_text(web))["3号楼楼道灯坏了好几天了"]
    async with web.bot.db.unit_of_work() as s:
        ticket = await s.scalar(select(TicketRow).where(TicketRow.number == number))
        now = web.bot.clock.now()
        s.add(SatisfactionRow(ticket_id=ticket.id, ticket_number=number, reporter_id=TENANT, reporter_name="3-201 王芳",
                              state="answered", node_code=ticket.node_code, asked_at=now - timedelta(hours=1),
                              score=3, answer="还是不亮", answered_at=now))
    await web.login("shuji")
    html = await (await web.client.get(f"/console/tickets/{number}")).text()
    assert "<h2>满意度</h2>" in html and "3-201 王芳：不满意（“还是不亮”）" in html
