"""微议事 through the whole bot: a leader's `#议事`, residents voting by household in their own words, a changed
vote, `#议事结果`, and the deadline (quorum met / not met), on a virtual clock, on both databases."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config.schema import PollConfig
from bot.replay import Replay, parse_events
from storage.models import PollRow, PollVoteRow

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # a Monday
GROUP = "江桥花苑1号楼微网格"  # members 1-101 王芳, 1-202 李强, 1-301 赵敏, 1-502 孙大爷; 微网格长 张阿姨


def ev(at, room=None, sender=None, text="", direct=False):
    data = {"at": at}
    if room or direct:
        data.update(sender=sender, text=text)
    if room:
        data["room"] = room
    if direct:
        data["direct"] = True
    return json.dumps(data, ensure_ascii=False)


async def play(config, db_spec, lines):
    events = list(parse_events(lines, tz=TZ, start=START))
    replay = Replay(config, db_spec.database(), START)
    async with replay:
        for event in events:
            await replay.feed(event)
        await replay.finish(events[-1].at)

        async def stored(session):  # type: ignore[no-untyped-def]
            polls = list(await session.scalars(select(PollRow).order_by(PollRow.id)))
            votes = list(await session.scalars(select(PollVoteRow).order_by(PollVoteRow.id)))
            return polls, votes

        polls, votes = await replay.database.run(stored, what="test polls")
        return replay.sent(), polls, votes


OPEN = "#议事 楼道里的旧家具周六统一清走吗？ 1.同意 2.不同意 3.再商量 截止 周三20点 过半数"


async def test_households_vote_once_and_the_deadline_closes_with_the_quorum_met(sample_config, db_spec):
    sent, [poll], votes = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", GROUP, "张阿姨", OPEN),
        ev("+5m", GROUP, "1-101 王芳", "1"),
        ev("+1m", GROUP, "1-202 李强", "同意，早该清了"),
        ev("+1m", GROUP, "1-101 王小明", "我家不同意"),  # the same household (1-101) as 王芳: replaces her vote
        ev("+1m", GROUP, "1-301 赵敏", "2"),
        ev("+1m", GROUP, "1-502 孙大爷", "今天天气不错"),  # chat, not a vote
        ev("+2m", GROUP, "1-502 孙大爷", "#议事结果"),
        ev("2026-11-25T21:00:00+08:00")])
    in_group = [m for m in sent if m["room"] == GROUP]
    announce = in_group[0]["text"]
    assert announce.startswith("【微议事 第1号】楼道里的旧家具周六统一清走吗？") and "1. 同意" in announce
    assert "11月25日（周三）20:00" in announce and "过半数住户参与" in announce
    # one vote per household: 1-101 counted once (its latest, 不同意), chat not counted
    assert sorted((v.voter, v.option) for v in votes) == [("1-101", 2), ("1-202", 1), ("1-301", 2)]
    # a first vote is quiet; the changed one is confirmed
    changed = [m for m in in_group if "已改为" in m["text"]]
    assert len(changed) == 1 and "您家这一票已改为「不同意」（原为「同意」）" in changed[0]["text"]
    assert not [m for m in in_group if "1-202 李强" in m["text"] or "@1-301" in m["text"]]
    interim = next(m["text"] for m in in_group if "进行中" in m["text"])
    assert "1. 同意 1 户" in interim and "2. 不同意 2 户" in interim and "已参与 3/4 户" in interim
    final = next(m for m in in_group if m["text"].startswith("【微议事结果 第1号】"))
    assert final["at"].startswith("2026-11-25T20:0")
    assert "共 3/4 户参与" in final["text"] and "「不同意」得票最多" in final["text"]
    assert "已达到“过半数住户参与”的要求（需 3 户）" in final["text"]
    leader = [m for m in sent if m["to"] == "wxid_zhangayi"]
    assert len(leader) == 1 and leader[0]["text"].startswith("您发起的第1号议事已截止")
    assert poll.state == "closed" and poll.outcome["quorum_met"] is True and poll.outcome["winner"] == 2


async def test_a_quorum_not_met_is_said_plainly_and_a_late_vote_is_not_counted(sample_config, db_spec):
    sent, [poll], votes = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", GROUP, "张阿姨", OPEN),
        ev("+5m", GROUP, "1-101 王芳", "同意"),
        ev("2026-11-25T20:05:00+08:00", GROUP, "1-202 李强", "1"),  # after the deadline
        ev("+1h")])
    final = next(m["text"] for m in sent if m["room"] == GROUP and m["text"].startswith("【微议事结果"))
    assert "共 1/4 户参与" in final and "未达到“过半数住户参与”的要求" in final and "仅供参考" in final
    assert [(v.voter, v.option) for v in votes] == [("1-101", 1)]
    assert any("已经截止，这条回复不再计入" in m["text"] for m in sent if m["room"] == GROUP)
    assert poll.outcome["quorum_met"] is False


async def test_only_a_leader_starts_only_the_starter_ends_and_staff_do_not_vote(sample_config, db_spec):
    sent, [poll], votes = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", GROUP, "1-101 王芳", OPEN),  # a resident: refused
        ev("+1m", GROUP, "张阿姨", OPEN),
        ev("+1m", GROUP, "张阿姨", "1"),  # the leader's own "1" is no household's vote
        ev("+1m", GROUP, "1-202 李强", "再商量商量吧"),
        ev("+1m", GROUP, "1-202 李强", "#结束议事"),  # not the starter
        ev("+1m", GROUP, "张阿姨", "#结束议事"),
        ev("+1m", GROUP, "1-301 赵敏", "1")])  # closed: not counted (and not answered)
    in_group = [m["text"] for m in sent if m["room"] == GROUP]
    assert "只有本群的网格长、楼道长等负责人可以发起议事" in in_group[0]
    assert sum(t.startswith("【微议事 第") for t in in_group) == 1
    assert any("只有发起人可以提前结束" in t for t in in_group)
    assert [(v.voter, v.option) for v in votes] == [("1-202", 3)]
    assert poll.state == "closed" and poll.closed_by == "张阿姨"
    assert any(t.startswith("【微议事结果 第1号】") and "「再商量」得票最多" in t for t in in_group)


async def test_an_open_poll_takes_a_bare_number_before_a_pending_notice(sample_config, db_spec):
    sent, _, votes = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥社区第一网格群", "陈丽", "#通知 明天上午停水，请储水"),  # reaches GROUP
        ev("+10m", GROUP, "张阿姨", OPEN),
        ev("+5m", GROUP, "1-101 王芳", "1"),
        ev("+1m", GROUP, "1-202 李强", "收到"),  # still an acknowledgement of the notice, not a vote
        ev("+1m", "江桥社区第一网格群", "陈丽", "#回执 1")])
    assert [(v.voter, v.option) for v in votes] == [("1-101", 1)]
    receipt = next(m["text"] for m in sent if m["room"] == "江桥社区第一网格群" and "江桥花苑1号楼" in m["text"])
    assert "江桥花苑1号楼微网格：1/4 户" in receipt  # 李强's "收到" counted; 王芳's "1" was her vote


async def test_a_linked_ticket_must_exist_and_is_shown_with_its_state(sample_config, db_spec):
    sent, [poll], _ = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", GROUP, "张阿姨", OPEN + " 关联 #1009"),  # no such ticket: not opened
        ev("+1m", GROUP, "1-101 王芳", "1号楼楼道里堆满了旧家具，过不去"),  # ticket #1001
        ev("+5m", GROUP, "张阿姨", OPEN + " 关联 #1001"),
        ev("+5m", GROUP, "1-202 李强", "#议事结果")])
    in_group = [m["text"] for m in sent if m["room"] == GROUP]
    assert any("没有找到工单 #1009，议事没有发出" in t for t in in_group)
    assert poll.ticket_no == 1001
    result = next(t for t in in_group if "进行中" in t)
    assert result.endswith("关联工单 #1001（待受理）。")


async def test_start_roles_narrow_who_may_start(sample_config, db_spec):
    config = dataclasses.replace(sample_config, polls=PollConfig(start_roles=("网格长",)))
    sent, polls, _ = await play(config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", GROUP, "张阿姨", OPEN),  # 微网格长: not allowed here
        ev("+1m", GROUP, "陈丽", OPEN)])  # 网格长 of the grid above: allowed
    assert any("本社区只有网格长可以发起议事" in m["text"] for m in sent)
    assert [p.starter_key for p in polls] == ["chen_li"]


async def test_a_closed_poll_notes_its_outcome_on_the_linked_tickets_timeline(sample_config, db_spec):
    from storage.models import TicketEventRow

    await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", GROUP, "1-101 王芳", "1号楼楼道里堆满了旧家具，过不去"),  # ticket #1001
        ev("+5m", GROUP, "张阿姨", OPEN + " 关联 #1001"),
        ev("+1m", GROUP, "1-101 王芳", "同意"),
        ev("+1m", GROUP, "张阿姨", "#结束议事")])
    async with db_spec.database().unit_of_work() as s:
        steps = list(await s.scalars(select(TicketEventRow).where(TicketEventRow.action == "poll")))
    assert len(steps) == 1 and "微议事第1号结束" in steps[0].note and "「同意」得票最多" in steps[0].note
