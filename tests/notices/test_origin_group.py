"""A notice posted in a group is read there too: "收到" in that group answers it (no review, no ticket)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.replay import Replay, parse_events

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 12, 2, 8, 0, tzinfo=TZ)
GROUP = "江桥花苑1号楼微网格"


def ev(at, sender=None, text=""):
    return json.dumps({"at": at, "room": GROUP, "sender": sender, "text": text} if sender else {"at": at},
                      ensure_ascii=False)


async def test_an_ack_in_the_group_where_the_notice_was_posted_is_not_held_for_review(sample_config, db_spec):
    lines = [ev("2026-12-02T08:00:00+08:00", "zhang_ayi", "#通知 明天上午燃气入户检查，请家里留人"),
             ev("+3m", "1-302 李建国", "收到，我家有人"), ev("2026-12-02T09:00:00+08:00")]
    replay = Replay(sample_config, db_spec.database(), START)
    async with replay:
        for event in parse_events(lines, tz=TZ, start=START):
            await replay.feed(event)
        await replay.finish(START.replace(hour=9))
        sent, summary = replay.sent(), await replay.summary()
    assert not summary["tickets"]
    assert not [m for m in sent if "待确认" in m["text"]], [m["text"] for m in sent]
