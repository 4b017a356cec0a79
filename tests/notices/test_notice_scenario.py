"""One notice through replay: `#回执`, the digest and the console detail page give the same numbers."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer

from bot.digests import DigestDesk
from bot.domain.digest import calendar_period
from bot.replay import Replay, parse_events
from bot.web.accounts import hash_password, new_token
from bot.web.app import build_web_app
from storage.web_repository import WebRepository

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
PASSWORD = "correct horse 9"


def ev(at, room=None, sender=None, text=""):
    data = {"at": at}
    if room:
        data.update(room=room, sender=sender, text=text)
    return json.dumps(data, ensure_ascii=False)


LINES = [
    ev("2026-11-23T09:00:00+08:00", "江桥社区工作群", "li_hongmei", "#通知 截止 明天18点 燃气安全检查，请各户明天在家配合"),
    ev("+5m", "江桥花苑1号楼微网格", "1-101 王芳", "收到"),
    ev("+1m", "江桥花苑1号楼微网格", "1-202 李强", "好的知道了，会准时在家"),
    ev("+1m", "江桥花苑1号楼微网格", "1-301 赵敏", "谢谢大家"),            # thanks: not a reply
    ev("+1m", "江桥花苑1号楼微网格", "zhang_ayi", "收到"),                 # the 微网格长: staff, not counted
    ev("+1m", "1号楼1单元楼道群", "1-1-101 王芳", "已阅"),
    ev("+1m", "东头12号房东租客群", "fd_chen", "收到"),                    # the landlord: audience
    ev("+1m", "东头12号房东租客群", "201 小刘", "收到"),
    ev("+5m", "江桥社区工作群", "li_hongmei", "#回执 1"),
    ev("+1m", "江桥社区第一网格群", "chen_li", "#回执 1"),
]


def totals(text):
    """(replied households, households, replied members, members) from a receipt's 合计 line."""
    found = re.search(r"合计：(\d+)/(\d+) 户、(\d+)/(\d+) 人", text)
    assert found, text
    return tuple(int(x) for x in found.groups())


async def test_receipt_digest_and_console_agree(sample_config, db_spec):
    events = list(parse_events(LINES, tz=TZ, start=START))
    async with Replay(sample_config, db_spec.database(), START) as replay:
        for event in events:
            await replay.feed(event)
        await replay.finish(events[-1].at)
        sent = replay.sent()
        secretary = [m["text"] for m in sent if m["room"] == "江桥社区工作群" and "回执（" in m["text"]][-1]
        leader = [m["text"] for m in sent if m["room"] == "江桥社区第一网格群" and "回执" in m["text"]][-1]
        # by hand: 1号楼微网格 2 of 4 households (王芳, 李强; 赵敏 only thanked, 张阿姨 is staff);
        # 1号楼1单元 1 of 3; 东头12号 2 of 5 (陈老板 the landlord and 小刘)
        whole, grid = totals(secretary), totals(leader)
        assert whole[0] == 5 and grid[0] == 3 and "您负责的范围" in leader

        bot = replay.bot
        now = replay.clock.now()
        day = calendar_period("day", now.astimezone(TZ).date(), TZ)

        async def digests(session):  # type: ignore[no-untyped-def]
            desk = DigestDesk(session, sample_config, now, directory=bot.directory, bot_id=replay.sim.self_id)
            return [(await desk.figures(code, day)).notices for code in ("JQS", "JQS-01")]

        community, first_grid = await replay.database.run(digests)
        for figures, expected in ((community, whole), (first_grid, grid)):
            assert sum(t.acked for t in figures.by_tier) == expected[0]
            assert sum(t.expected for t in figures.by_tier) == expected[1]

        async def accounts(session):  # type: ignore[no-untyped-def]
            for name, role, person in (("shuji", "secretary", "li_hongmei"), ("chenli", "leader", "chen_li")):
                _, hashed = new_token()
                await WebRepository(session).add_user(
                    username=name, password_hash=hash_password(PASSWORD), role=role, person_key=person,
                    node_code=None, token_hash=hashed, disabled=False, created_at=datetime.now(timezone.utc))

        await replay.database.run(accounts)
        client = TestClient(TestServer(build_web_app(bot)))
        await client.start_server()
        try:
            for name, expected in (("shuji", whole), ("chenli", grid)):
                client.session.cookie_jar.clear()
                await client.post("/login", data={"username": name, "password": PASSWORD}, allow_redirects=False)
                listing = await (await client.get("/console/notices")).text()
                assert "/console/notices/1" in listing  # the grid leader sees the secretary's notice too
                page = await (await client.get("/console/notices/1")).text()
                households = re.search(r"<b class='households'>(\d+)/(\d+)</b>", page).groups()
                members = re.search(r"<b class='members'>(\d+)/(\d+)</b>", page).groups()
                assert (int(households[0]), int(households[1]), int(members[0]), int(members[1])) == expected
                assert "<table class='tiers'>" in page and "<table class='missing'>" in page
                if name == "chenli":
                    assert "东头12号" not in page and "1-1-201 周杰" in page and "张阿姨" not in page
                    assert "<td>江桥花苑1号楼微网格</td><td>微网格</td><td>2/4</td><td>2/4</td>" in page
                    assert "<td>1号楼1单元楼道群</td><td>楼道</td><td>1/3</td>" in page
                else:
                    assert "<td>东头12号房东租客群</td><td>房东群</td><td>2/5</td>" in page
                progress = await (await client.get("/console/notices/progress")).json()
                assert progress["1"]["acknowledged"] == expected[0] and progress["1"]["households"] == expected[1]
        finally:
            await client.close()
