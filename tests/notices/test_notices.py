"""Notices through the simulator on both databases: cascade, targeting, refusal, acks, reminders, crashes."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import GridBot
from bot.transport.base import TransportError
from bot.transport.simulator import SimulatorTransport
from storage.models import NoticeAckRow, OutboxRow

COMMUNITY = "江桥社区工作群"
SECRETARY = "wxid_lihongmei"


@pytest.fixture
def bot(sim_bot):
    return sim_bot


async def say(bot, sim, clock, topic, sender, text, *, settle=True):
    room = sim.room_by_topic(topic)
    await sim.post(room.id, sender, text)
    if settle:
        await bot.settle(clock)
    return room


def notices_in(sim, number):
    return {room.topic for room in sim.all_rooms() for m in room.history
            if m.from_bot and f"#{number}】" in m.text}


async def test_cascade_across_five_tiers(bot, db, clock):
    b, sim = bot
    room = await say(b, sim, clock, COMMUNITY, SECRETARY, "#通知 本周六上午9点到12点全社区停水检修，请提前储水")
    confirm = [m for m in room.history if m.from_bot][-1].text
    assert "29 个群" in confirm and "房东群 8 个" in confirm and "楼道 6 个" in confirm and "约需 2 分钟" in confirm
    reached = notices_in(sim, 1)
    assert len(reached) == 29 and COMMUNITY not in reached
    sample = [m for m in sim.room_by_topic("东头12号房东租客群").history if m.from_bot][0].text
    assert "江桥社区·社区书记 李红梅" in sample and "全社区停水检修" in sample
    async with db.unit_of_work() as s:
        rows = list(await s.scalars(select(OutboxRow).where(OutboxRow.kind == "notice")))
    assert len(rows) == 29 and {r.status for r in rows} == {"sent"}


async def test_targeting_by_tier_children_and_prefix(bot, clock):
    b, sim = bot
    await say(b, sim, clock, COMMUNITY, SECRETARY, "#通知 只发房东群 出租屋消防检查")
    reached = notices_in(sim, 1)
    assert len(reached) == 8 and all(("租" in t or "房东" in t) for t in reached)
    await say(b, sim, clock, COMMUNITY, SECRETARY, "#通知 只发 JQS-03 通仙路占道经营整治")
    assert notices_in(sim, 2) == {"江桥社区第三网格群", "通仙路北段微网格", "通仙路18号租客群", "通仙路南段微网格",
                                  "通仙路41号房东群", "江桥菜市场微网格", "江桥小学周边微网格"}
    await say(b, sim, clock, COMMUNITY, SECRETARY, "#通知 只发 JQS-01-01* 1号楼电梯年检")
    assert notices_in(sim, 3) == {"江桥花苑1号楼微网格", "1号楼1单元楼道群", "1号楼2单元楼道群"}


async def test_leader_reaches_only_their_own_subtree_and_others_are_refused(bot, clock):
    b, sim = bot
    room = await say(b, sim, clock, "江桥社区第一网格群", "wxid_chenli", "#通知 只发 JQS-02 越权")
    assert "不在您负责的范围内" in [m for m in room.history if m.from_bot][-1].text
    await say(b, sim, clock, "江桥社区第一网格群", "wxid_chenli", "#通知 本网格明晚8点消防演练")
    reached = notices_in(sim, 1)
    assert reached and all(t.startswith(("江桥花苑", "1号楼", "2号楼", "3号楼")) for t in reached)
    room = await say(b, sim, clock, "东头12号房东租客群", "sim:201 小刘", "#通知 我也想发")
    assert "只有网格长、楼道长、房东等负责人可以发通知" in [m for m in room.history if m.from_bot][-1].text
    # a leader of grid 2 may not post in grid 1's groups as if they led them
    room = await say(b, sim, clock, "江桥花苑3号楼微网格", "wxid_zhouqiang", "#通知 试试")
    assert "没有发通知的权限" in [m for m in room.history if m.from_bot][-1].text


async def test_private_chat_notice_starts_at_the_leaders_node(bot, clock):
    b, sim = bot
    await sim.post_direct("wxid_fangjie", "方姐", "#通知 学校周边明早交通管制")
    await b.settle(clock)
    assert notices_in(sim, 1) == {"江桥小学周边微网格"}
    assert "已安排发送到 1 个群" in sim.direct_history("wxid_fangjie")[-1].text


async def test_acks_counted_once_per_member_and_by_household(bot, db, clock):
    b, sim = bot
    await say(b, sim, clock, "老村东片微网格", "wxid_xudama", "#通知 周五前登记出租屋租客信息")
    tenants = "东头12号房东租客群"
    for sender, text in (("sim:201 小刘", "收到"), ("sim:201 小刘", "收到收到"), ("sim:202 小何", "👌"),
                         ("sim:301 阿强", "好的，已转发给室友")):
        await say(b, sim, clock, tenants, sender, text)
    async with db.unit_of_work() as s:
        acks = list(await s.scalars(select(NoticeAckRow).order_by(NoticeAckRow.id)))
    assert [(a.member_name, a.household) for a in acks] == [("201 小刘", "201"), ("202 小何", "202"),
                                                             ("301 阿强", "301")]
    room = await say(b, sim, clock, "老村东片微网格", "wxid_xudama", "#回执")
    text = [m for m in room.history if m.from_bot][-1].text
    assert "通知 #1 回执" in text and "已送达 2/2 个群" in text
    assert "东头12号房东租客群：3/5" in text and "302 小美" in text
    assert "房东群：2 个群" in text


async def test_reminder_at_the_deadline_mentions_who_has_not_replied(bot, clock):
    b, sim = bot
    # Monday 09:00; deadline 18:00 the same day → reminder at 16:00 (two hours before)
    await say(b, sim, clock, "老村西巷微网格", "wxid_mawei", "#通知 截止 今天18点 请各户检查燃气软管")
    await say(b, sim, clock, "西巷3号房东群", "sim:301 小杨", "收到")
    await b.settle(clock, until=clock.now().replace(hour=15, minute=59))
    room = sim.room_by_topic("西巷3号房东群")
    assert not [m for m in room.history if m.from_bot and "提醒" in m.text]
    await b.settle(clock, until=clock.now().replace(hour=16, minute=5))
    reminders = [m for m in room.history if m.from_bot and "提醒" in m.text]
    assert len(reminders) == 1
    assert "@302 阿飞" in reminders[0].text and "@301 小杨" not in reminders[0].text
    assert "sim:302 阿飞" in reminders[0].mentions
    leader_room = sim.room_by_topic("老村西巷微网格")
    assert any("回执" in m.text for m in leader_room.history if m.from_bot and m.at.hour == 16)
    await b.settle(clock, until=clock.now().replace(hour=19))
    assert len([m for m in room.history if m.from_bot and "提醒" in m.text]) == 1  # one reminder only


class OneBrokenGroup(SimulatorTransport):
    """Every send to one group fails, as when the bot has been removed from it."""

    broken = "sim-JQS-03-01-A-1"

    async def send(self, to, text, mentions=()):
        if to.id == self.broken:
            raise TransportError("机器人已不在该群")
        return await super().send(to, text, mentions)


async def test_failed_groups_are_retried_then_reported_to_the_sender(sample_config, db, clock):
    sim = OneBrokenGroup.from_config(sample_config, clock)
    b = GridBot(sample_config, sim, clock=clock, database=db, scheduler=False)
    await b.start()
    try:
        room = await say(b, sim, clock, "江桥社区第三网格群", "wxid_wusaifen", "#通知 周日清理楼道杂物")
        await b.settle(clock, until=clock.now() + timedelta(hours=1))
    finally:
        await b.stop()
    texts = [m.text for m in room.history if m.from_bot]
    failure = [t for t in texts if "没能发出" in t]
    assert len(failure) == 1 and "通仙路18号租客群" in failure[0] and "机器人已不在该群" in failure[0]
    assert "1 个群没能发出" in failure[0] and "已重试 5 次" in failure[0]
    assert len(notices_in(sim, 1)) == 5  # the other groups all got it


class ThreeBrokenGroups(SimulatorTransport):
    """The bot was removed from three groups; one of them fails for good at once (not retryable)."""

    async def send(self, to, text, mentions=()):
        if to.id in ("sim-JQS-03-01-A-1", "sim-JQS-02-01-A-1"):
            raise TransportError("机器人已不在该群")
        if to.id == "sim-JQS-02-02-A-1":
            raise TransportError("群已解散", retryable=False)
        return await super().send(to, text, mentions)


async def test_many_failures_reach_the_sender_as_one_report(sample_config, db, clock):
    sim = ThreeBrokenGroups.from_config(sample_config, clock)
    b = GridBot(sample_config, sim, clock=clock, database=db, scheduler=False)
    await b.start()
    try:
        room = await say(b, sim, clock, COMMUNITY, SECRETARY, "#通知 周日清理楼道杂物")
        await b.settle(clock, until=clock.now() + timedelta(hours=1))
    finally:
        await b.stop()
    reports = [m.text for m in room.history if m.from_bot and "没能发出" in m.text]
    assert len(reports) == 1, reports  # not one message per failed group
    report = reports[0]
    assert "3 个群没能发出" in report and "群已解散（已重试 1 次）" in report
    assert report.count("机器人已不在该群（已重试 5 次）") == 2
    assert len(notices_in(sim, 1)) == 26


class HangingSimulator(SimulatorTransport):
    """Sends normally until told to hang: then a message reaches the group but the call never returns
    (WeChat got it; the process dies before it can mark the row sent) — the worst case."""

    hang_after: int | None = None

    async def send(self, to, text, mentions=()):
        message_id = await super().send(to, text, mentions)
        if self.hang_after is not None and len(self.sent) > self.hang_after:
            await asyncio.Event().wait()
        return message_id


async def test_kill_and_restart_mid_delivery_loses_nothing_repeats_only_in_flight(sample_config, db_spec, clock):
    sim = HangingSimulator.from_config(sample_config, clock)
    first = GridBot(sample_config, sim, clock=clock, database=db_spec.database(), scheduler=False)
    await first.start()
    room = sim.room_by_topic(COMMUNITY)
    await sim.post(room.id, SECRETARY, "#通知 全社区网格员周一例会")
    await first.settle(clock, until=clock.now() + timedelta(seconds=30))  # about ten copies at 20 a minute
    sim.hang_after = len(sim.sent)  # the next send never returns: the process dies while it is in flight
    for _ in range(5):
        await clock.advance(4)
        await asyncio.sleep(0.05)
    delivered_first = [m.conversation.id for m in sim.sent if "#1】" in m.text]
    assert 0 < len(delivered_first) < 29
    for task in (first.sender._task, first.inbound.consumer_task):  # SIGKILL: nothing gets to clean up
        task.cancel()
    await first.db.dispose()

    sim2 = SimulatorTransport.from_config(sample_config, clock)
    second = GridBot(sample_config, sim2, clock=clock, database=db_spec.database(), scheduler=False)
    await second.start()
    await second.settle(clock)
    delivered_second = [m.conversation.id for m in sim2.sent if "#1】" in m.text]
    everyone = set(delivered_first) | set(delivered_second)
    assert len(everyone) == 29  # every group got it
    repeated = set(delivered_first) & set(delivered_second)
    assert len(repeated) == 1  # only the copy in flight at the crash comes twice; nothing marked sent is resent
    async with second.db.unit_of_work() as s:
        rows = list(await s.scalars(select(OutboxRow).where(OutboxRow.kind == "notice")))
    assert {r.status for r in rows} == {"sent"}
    await second.stop()


async def test_routine_reminder_waits_for_morning_but_urgent_does_not(bot, clock):
    b, sim = bot
    await b.settle(clock, until=clock.now().replace(hour=21))
    # deadline 01:00 → reminders due at 23:00, inside the 22:00–07:00 quiet hours
    await say(b, sim, clock, "老村西巷微网格", "wxid_mawei", "#通知 截止 明天1点 夜间测试")
    await say(b, sim, clock, "老村西巷微网格", "wxid_mawei", "#通知 紧急 截止 明天1点 燃气检修")
    await b.settle(clock, until=(clock.now()).replace(hour=23, minute=30))
    room = sim.room_by_topic("西巷3号房东群")
    reminders = [m for m in room.history if m.from_bot and "提醒" in m.text]
    assert [("#2" in m.text) for m in reminders] == [True]  # only the urgent one reminded at 23:00
    await b.settle(clock, until=(clock.now() + timedelta(days=1)).replace(hour=7, minute=5))
    reminders = [m for m in room.history if m.from_bot and "提醒" in m.text]
    assert len(reminders) == 2 and "#1" in reminders[-1].text and reminders[-1].at.hour == 7


async def test_one_reply_per_household_is_enough_for_counts_and_reminders(bot, clock):
    b, sim = bot
    tenants = sim.room_by_topic("东头12号房东租客群")
    await sim.join(tenants.id, "sim:201 刘妈妈", "201 刘妈妈")  # a second member of household 201
    await say(b, sim, clock, "老村东片微网格", "wxid_xudama", "#通知 截止 今天18点 周五前登记出租屋租客信息")
    await say(b, sim, clock, "东头12号房东租客群", "sim:201 小刘", "收到")
    await say(b, sim, clock, "东头12号房东租客群", "sim:202 小何", "已阅")
    room = await say(b, sim, clock, "老村东片微网格", "wxid_xudama", "#回执 1")
    receipt = [m for m in room.history if m.from_bot][-1].text
    assert "东头12号房东租客群：2/5 户（2/6 人）" in receipt
    assert "刘妈妈" not in receipt.split("东头12号房东租客群：")[1].split("\n")[0]  # household 201 has replied
    await b.settle(clock, until=clock.now().replace(hour=16, minute=5))
    [reminder] = [m for m in tenants.history if m.from_bot and "提醒" in m.text]
    # households 301, 302 and the landlord (no house number: a household of one) are chased; 201's other member is not
    assert reminder.mentions == ("sim:301 阿强", "sim:302 小美", "wxid_chenlaoban")
    assert "@301 阿强 @302 小美 @陈老板" in reminder.text


async def test_reminder_mentions_are_chunked_to_the_limit(sample_config, db, clock):
    from dataclasses import replace
    config = replace(sample_config, notices=replace(sample_config.notices, mention_chunk=2))
    sim = SimulatorTransport.from_config(config, clock)
    b = GridBot(config, sim, clock=clock, database=db, scheduler=False)
    await b.start()
    try:
        await say(b, sim, clock, "老村东片微网格", "wxid_xudama", "#通知 截止 今天18点 登记")
        await b.settle(clock, until=clock.now().replace(hour=16, minute=5))
    finally:
        await b.stop()
    tenants = sim.room_by_topic("东头12号房东租客群")
    reminders = [m for m in tenants.history if m.from_bot and "提醒" in m.text]
    mentioned = [who for m in reminders for who in m.mentions]
    assert all(len(m.mentions) <= 2 for m in reminders) and len(reminders) == -(-len(mentioned) // 2)
    assert len(mentioned) == len(set(mentioned)) >= 4 and "sim:201 小刘" in mentioned


async def test_ticket_confirmation_wins_over_an_ack_in_a_group_with_a_notice(bot, db, clock):
    from storage.models import TicketRow
    b, sim = bot
    tenants = "东头12号房东租客群"
    await say(b, sim, clock, "老村东片微网格", "wxid_xudama", "#通知 周五前登记出租屋租客信息")
    await say(b, sim, clock, tenants, "sim:201 小刘", "3号楼楼道灯坏了")
    await say(b, sim, clock, tenants, "wxid_chenlaoban", "#办结 1001 已更换灯泡")
    await say(b, sim, clock, tenants, "sim:201 小刘", "好了，谢谢")  # the parser calls this an ack here
    async with db.unit_of_work() as s:
        ticket = await s.scalar(select(TicketRow).where(TicketRow.number == 1001))
        acks = list(await s.scalars(select(NoticeAckRow)))
    assert ticket.state == "closed"
    assert acks == []
    await say(b, sim, clock, tenants, "sim:202 小何", "好的谢谢")  # no ticket of hers: an ack
    async with db.unit_of_work() as s:
        assert [a.member_name for a in await s.scalars(select(NoticeAckRow))] == ["202 小何"]


async def test_confirmation_counts_the_queue_ahead_in_the_time_estimate(bot, clock):
    b, sim = bot
    room = sim.room_by_topic(COMMUNITY)
    await sim.post(room.id, SECRETARY, "#通知 第一条")
    await sim.post(room.id, SECRETARY, "#通知 第二条")
    await b.settle(clock)
    first, second = [m.text for m in room.history if m.from_bot and "已安排发送" in m.text]
    assert "约需 2 分钟" in first and "前面还有" not in first  # 29 groups at 20 a minute
    # the second waits behind what the first queued (29 copies and a confirmation, less any already sent)
    ahead = int(re.search(r"前面还有 (\d+) 条消息排队", second).group(1))
    assert 25 <= ahead <= 30
    assert f"约需 {-(-(29 + ahead) // 20)} 分钟" in second


async def test_notice_quiet_hours_are_their_own_setting(sample_config, db, clock):
    from dataclasses import replace

    from bot.domain.sla import QuietHours
    config = replace(sample_config, notices=replace(sample_config.notices, quiet=QuietHours.parse("off")))
    sim = SimulatorTransport.from_config(config, clock)
    b = GridBot(config, sim, clock=clock, database=db, scheduler=False)
    await b.start()
    try:
        await b.settle(clock, until=clock.now().replace(hour=21))
        await say(b, sim, clock, "老村西巷微网格", "wxid_mawei", "#通知 截止 明天1点 夜间测试")
        await b.settle(clock, until=clock.now().replace(hour=23, minute=30))
    finally:
        await b.stop()
    room = sim.room_by_topic("西巷3号房东群")
    reminders = [m for m in room.history if m.from_bot and "提醒" in m.text]
    assert len(reminders) == 1 and reminders[0].at.hour == 23  # tickets still keep 22:00–07:00; notices do not
