"""Overdue visits are reminded: the responsible person privately, once a local day, never in quiet hours
(22:00–07:00 in the sample), not again after a restart; a visit recorded ends it. Replays on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.replay import Event, Replay

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 23, 0, 0, tzinfo=TZ)  # a Monday; the sample's quiet hours end at 07:00
MICRO = "wxid_zhangayi"  # 张阿姨, responsible for 吴奶奶 (visit every 7 days, never visited yet)
FIVE = "wxid_zhaojie"  # 赵杰, responsible for 林阿婆 (visit every 30 days, call every 7)


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return (DAY + timedelta(days=day)).replace(hour=hour, minute=minute)


def reminders(sent: list[dict], contact: str) -> list[dict]:
    return [m for m in sent if m["to"] == contact and "该去看看了" in m["text"]]


def local(message: dict) -> datetime:
    return datetime.fromisoformat(message["at"]).astimezone(TZ)


async def test_each_responsible_person_is_reminded_once_a_day_after_quiet_hours(care_config, db_spec):
    async with Replay(care_config, db_spec.database(), at(1)) as replay:
        await replay.finish(at(20))
        sent = replay.sent()
    [granny] = reminders(sent, MICRO)
    assert at(7) <= local(granny) < at(7, 2)  # not at 01:00: quiet hours
    assert "1-1-601 吴奶奶：还没有走访记录" in granny["text"] and "林阿婆" not in granny["text"]
    [five] = reminders(sent, FIVE)
    assert "5-601 林阿婆" in five["text"] and "吴奶奶" not in five["text"]
    assert not [m for m in sent if m["room"] and "该去看看了" in m["text"]]  # never in a group


async def test_a_restart_does_not_repeat_the_days_reminder(care_config, db_spec):
    async with Replay(care_config, db_spec.database(), at(6)) as replay:
        await replay.finish(at(9))
        before = replay.sent()
    async with Replay(care_config, db_spec.database(), at(15)) as replay:
        await replay.finish(at(21))
        after = replay.sent()
    assert len(reminders(before, MICRO)) == 1
    assert not reminders(after, MICRO) and not reminders(after, FIVE)


async def test_the_next_day_reminds_again_until_the_visit_is_recorded(care_config, db_spec):
    async with Replay(care_config, db_spec.database(), at(6)) as replay:
        await replay.feed(Event(at=at(10), sender="zhang_ayi", text="#走访 1-1-601 已上门，身体好"))
        await replay.finish(at(8, day=1))
        sent = replay.sent()
    assert [local(m).date() for m in reminders(sent, MICRO)] == [at(7).date()]  # visited: not on the 24th
    assert [local(m).date() for m in reminders(sent, FIVE)] == [at(7).date(), at(7, day=1).date()]
    [again] = [m for m in reminders(sent, FIVE) if local(m) >= at(7, day=1)]
    assert at(7, day=1) <= local(again) < at(7, 2, day=1)
