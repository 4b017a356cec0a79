"""One notice through replay, down every tier, with replies in several forms, a reminder and a group it could not
reach: the console's detail page lists the reminders and the failure, and its Excel file, the JSON API and `#回执`
give the same figures."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook
from sqlalchemy import select

from bot.replay import Replay, parse_events
from bot.transport.base import TransportError
from bot.web.accounts import hash_password, new_token
from bot.web.app import build_web_app
from storage.models import AuditRow
from storage.web_repository import WebRepository

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
PASSWORD = "correct horse 9"
BROKEN = "通仙路18号租客群"
PHONE = "13912345678"


def ev(at, room=None, sender=None, text="", type=None):
    data = {"at": at}
    if room:
        data.update(room=room, sender=sender, text=text)
    if type:
        data["type"] = type
    return json.dumps(data, ensure_ascii=False)


LINES = [
    ev("2026-11-23T09:00:00+08:00", "江桥花苑1号楼微网格", f"1-601 孙阿姨 {PHONE}", type="join"),
    ev("+1m", "江桥社区工作群", "li_hongmei", "#通知 截止 今天18点 燃气安全检查，请各户在家配合"),
    ev("+5m", "江桥花苑1号楼微网格", "1-101 王芳", "收到"),
    ev("+1m", "江桥花苑1号楼微网格", "1-202 李强", "好的知道了，会准时在家"),
    ev("+1m", "江桥花苑1号楼微网格", "1-301 赵敏", "谢谢大家"),              # thanks: not a reply
    ev("+1m", "江桥花苑1号楼微网格", "zhang_ayi", "收到"),                   # the 微网格长: staff, not counted
    ev("+1m", "1号楼1单元楼道群", "1-1-101 王芳", "已阅"),
    ev("+1m", "2号楼1单元楼道群", "2-1-101 老周", "收到，另外楼下垃圾三天没人收了"),  # a reply and a report
    ev("+1m", "东头12号房东租客群", "fd_chen", "收到"),                      # the landlord: audience
    ev("+1m", "东头12号房东租客群", "201 小刘", "👌"),
    ev("2026-11-23T16:30:00+08:00", "江桥社区工作群", "li_hongmei", "#回执 1"),
    ev("+1m", "江桥社区第一网格群", "chen_li", "#回执 1"),
]


def totals(text):
    """(replied households, households, replied members, members) from a receipt's 合计 line."""
    found = re.search(r"合计：(\d+)/(\d+) 户、(\d+)/(\d+) 人", text)
    assert found, text
    return tuple(int(x) for x in found.groups())


def table(page, name):
    """The cells of an HTML table of the page, row by row (header left out)."""
    body = page.split(f"<table class='{name}'>")[1].split("</table>")[0]
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body)]
    return [row for row in rows if row]


def sheet(book, title):
    return [list(row) for row in book[title].iter_rows(values_only=True)]


async def test_detail_page_excel_api_and_receipt_agree(sample_config, db_spec):
    events = list(parse_events(LINES, tz=TZ, start=START))
    async with Replay(sample_config, db_spec.database(), START) as replay:
        broken = replay.sim.find_room(BROKEN).id
        send = replay.sim.send

        async def failing(to, text, mentions=()):  # type: ignore[no-untyped-def]
            if to.id == broken:
                raise TransportError("群已解散", retryable=False)
            return await send(to, text, mentions)

        replay.sim.send = failing  # the bot was removed from one group: its copy can never be delivered
        for event in events:
            await replay.feed(event)
        await replay.finish(events[-1].at)
        sent = replay.sent()
        receipts = {room: [m["text"] for m in sent if m["room"] == room and "回执" in m["text"] and "合计" in m["text"]]
                    for room in ("江桥社区工作群", "江桥社区第一网格群")}
        whole, grid = totals(receipts["江桥社区工作群"][-1]), totals(receipts["江桥社区第一网格群"][-1])
        reminded: dict[str, int] = {}
        for m in sent:
            if "提醒：《燃气安全检查》" in m["text"]:
                reminded[m["room"]] = reminded.get(m["room"], 0) + len(m["mentions"])
        assert len(reminded) >= 5 and "江桥花苑1号楼微网格" in reminded and BROKEN not in reminded

        tokens = {}

        async def accounts(session):  # type: ignore[no-untyped-def]
            for name, role, person in (("shuji", "secretary", "li_hongmei"), ("chenli", "leader", "chen_li")):
                tokens[name], hashed = new_token()
                await WebRepository(session).add_user(
                    username=name, password_hash=hash_password(PASSWORD), role=role, person_key=person,
                    node_code=None, token_hash=hashed, disabled=False, created_at=datetime.now(timezone.utc))

        await replay.database.run(accounts)
        client = TestClient(TestServer(build_web_app(replay.bot)))
        await client.start_server()
        try:
            for name, expected in (("shuji", whole), ("chenli", grid)):
                client.session.cookie_jar.clear()
                await client.post("/login", data={"username": name, "password": PASSWORD}, allow_redirects=False)
                page = await (await client.get("/console/notices/1")).text()
                households = re.search(r"<b class='households'>(\d+)/(\d+)</b>", page).groups()
                members = re.search(r"<b class='members'>(\d+)/(\d+)</b>", page).groups()
                assert (int(households[0]), int(households[1]), int(members[0]), int(members[1])) == expected

                # reminders: when, which groups, how many @-ed — as the groups received them
                shown = {row[1]: int(row[2]) for row in table(page, "reminders")}
                mine = {room: n for room, n in reminded.items() if name == "shuji" or room in
                        {r[0] for r in table(page, "groups")}}
                assert shown == mine and all(row[4] == "已发出" and row[0].startswith("11月23日 16:")
                                             for row in table(page, "reminders"))
                if name == "shuji":
                    assert table(page, "failures") == [[BROKEN, "群已解散", "1 次"]]
                    assert "<b class='failed'>1</b>" in page
                else:
                    assert "<table class='failures'>" not in page and "没有发送失败的群" in page

                # the Excel file: the page's figures, by group and by household
                answer = await client.get("/console/notices/1/export.xlsx")
                assert answer.status == 200
                book = load_workbook(io.BytesIO(await answer.read()))
                summary = {row[0]: row[1] for row in sheet(book, "汇总") if row and row[0]}
                assert (summary["已回复户"], summary["户数"], summary["已回复人"], summary["人数"]) == expected
                assert summary["发送失败的群"] == (1 if name == "shuji" else 0)
                page_groups = {r[0]: (r[2], r[3]) for r in table(page, "groups")}
                book_groups = {r[0]: (f"{r[2]}/{r[3]}", f"{r[4]}/{r[5]}") for r in sheet(book, "按群")[1:]}
                assert book_groups == page_groups and len(book_groups) > 5
                by_household: dict[str, list[int]] = {}
                for group, _, _, _, replied, _ in sheet(book, "按户")[1:]:
                    counts = by_household.setdefault(group, [0, 0])
                    counts[0] += replied == "是"
                    counts[1] += 1
                assert {g: f"{a}/{h}" for g, (a, h) in by_household.items() if h} == \
                    {g: hh for g, (hh, _) in page_groups.items() if not hh.endswith("/0")}
                book_reminders = {r[1]: r[2] for r in sheet(book, "提醒")[1:]}
                assert book_reminders == shown
                cells = " ".join(str(c) for title in book.sheetnames for row in sheet(book, title) for c in row)
                assert PHONE not in cells and "139****5678" in cells and (name == "chenli" or BROKEN in cells)

                # the JSON API: the same figures
                api = await (await client.get("/api/v1/notices", headers={
                    "Authorization": f"Bearer {tokens[name]}"})).json()
                [listed] = [n for n in api["notices"] if n["number"] == 1]
                assert (listed["acknowledged"], listed["households"], listed["replied"], listed["members"]) == expected
                one = await (await client.get("/api/v1/notices/1", headers={
                    "Authorization": f"Bearer {tokens[name]}"})).json()
                assert {r["group"]: r["mentioned"] for r in one["reminders"]} == shown
                assert [f["group"] for f in one["failures"]] == ([BROKEN] if name == "shuji" else [])
            async with replay.database.unit_of_work() as s:
                exports = list(await s.scalars(select(AuditRow).where(AuditRow.action == "export")))
            assert [(a.username, a.target) for a in exports] == [("shuji", "notice:1"), ("chenli", "notice:1")]
        finally:
            await client.close()
