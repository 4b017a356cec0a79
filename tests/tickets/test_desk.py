"""Tickets through the simulator: open, merge, refuse, act, confirm, escalate, relay (scripted parse)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import MessageRow, ReviewRow, TicketEventRow, TicketRow

LANDLORD_ROOM = "东头12号房东租客群"  # JQS-02-01-A, under 老村东片微网格 (JQS-02-01)
TENANT = "sim:201 小刘"


def bot_lines(room):
    return [m for m in room.history if m.from_bot]


async def tickets(db):
    async with db.unit_of_work() as s:
        return list(await s.scalars(select(TicketRow).order_by(TicketRow.number)))


async def events(db, number):
    async with db.unit_of_work() as s:
        t = await s.scalar(select(TicketRow).where(TicketRow.number == number))
        return [e.action for e in await s.scalars(
            select(TicketEventRow).where(TicketEventRow.ticket_id == t.id).order_by(TicketEventRow.id))]


async def say(bot, sim, clock, topic, sender, text):
    room = sim.room_by_topic(topic)
    await sim.post(room.id, sender, text)
    await bot.settle(clock)
    return room


async def test_report_opens_a_ticket_names_the_handler_and_relays_up(ticket_bot, db, clock):
    bot, sim = ticket_bot
    room = await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    [ticket] = await tickets(db)
    assert ticket.number == 1001 and ticket.state == "new" and ticket.assignee == "fd_chen"
    assert ticket.building == "3" and ticket.node_path == "/JQS/JQS-02/JQS-02-01/JQS-02-01-A/"
    reply = bot_lines(room)[-1]
    assert "#1001" in reply.text and "陈老板" in reply.text and "30分钟内受理" in reply.text
    assert reply.mentions[:2] == (TENANT, "wxid_chenlaoban")
    upper = sim.room_by_topic("老村东片微网格")
    assert any("新工单 #1001" in m.text for m in bot_lines(upper))
    async with db.unit_of_work() as s:
        row = (await s.scalars(select(MessageRow).where(MessageRow.direction == "in"))).one()
    assert row.kind == "report" and row.category == "repair" and row.handler == "report"


async def test_me_too_merges_into_the_open_ticket(ticket_bot, db, clock):
    bot, sim = ticket_bot
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    room = await say(bot, sim, clock, LANDLORD_ROOM, "sim:202 小何", "+1 我家也是")
    await say(bot, sim, clock, LANDLORD_ROOM, "sim:301 阿强", "3号楼楼道灯还是不亮")
    await say(bot, sim, clock, LANDLORD_ROOM, "sim:301 阿强", "3号楼楼道灯还是不亮")  # the same person again
    [ticket] = await tickets(db)
    assert ticket.reporter_count == 3
    texts = [m.text for m in bot_lines(room)]
    assert any("已有工单 #1001" in t and "共 2 人反映" in t for t in texts)
    assert any("共 3 人反映" in t for t in texts)
    assert "您已反映过这个问题" in texts[-1]
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "5号楼楼道灯坏了")  # another building: a new ticket
    assert [t.number for t in await tickets(db)] == [1001, 1002]


async def test_an_unsure_plus_one_joins_the_report_it_follows_and_alone_waits_for_a_leader(ticket_bot, db, clock):
    """A bare "+1" the parser is not sure of: right after a report in its group it joins that ticket (nothing to
    ask a leader); with no report to follow it is held for review, and no ticket is opened."""
    bot, sim = ticket_bot
    await say(bot, sim, clock, LANDLORD_ROOM, "sim:202 小何", "+1")
    assert await tickets(db) == []
    async with db.unit_of_work() as s:
        assert [r.text for r in await s.scalars(select(ReviewRow))] == ["+1"]
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    room = await say(bot, sim, clock, LANDLORD_ROOM, "sim:301 阿强", "+1")
    [ticket] = await tickets(db)
    assert ticket.reporter_count == 2
    assert any("已有工单 #1001" in m.text and "共 2 人反映" in m.text for m in bot_lines(room))
    async with db.unit_of_work() as s:
        assert len(list(await s.scalars(select(ReviewRow)))) == 1  # only the first, lonely one


async def test_merge_window_expires(ticket_bot, db, clock):
    bot, sim = ticket_bot
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "垃圾堆了好几天没人收")
    await bot.settle(clock, until=clock.now() + timedelta(hours=13))
    await say(bot, sim, clock, LANDLORD_ROOM, "sim:202 小何", "垃圾堆了好几天没人收")
    assert len(await tickets(db)) == 2


async def test_refusal_for_someone_not_responsible(ticket_bot, db, clock):
    bot, sim = ticket_bot
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    # 陈丽 leads grid 1, not the old village: refused, nothing changes
    room = await say(bot, sim, clock, LANDLORD_ROOM, "wxid_chenli", "#受理 1001")
    assert "不在您负责的范围内" in bot_lines(room)[-1].text
    # a resident cannot act either
    await say(bot, sim, clock, LANDLORD_ROOM, "sim:202 小何", "#办结 1001")
    assert "只有网格负责人" in bot_lines(room)[-1].text
    [ticket] = await tickets(db)
    assert ticket.state == "new" and await events(db, 1001) == ["open"]


async def test_accept_resolve_and_reporter_confirms(ticket_bot, db, clock):
    bot, sim = ticket_bot
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    room = await say(bot, sim, clock, LANDLORD_ROOM, "wxid_chenlaoban", "＃受理1001")
    assert "已受理" in bot_lines(room)[-1].text
    await say(bot, sim, clock, LANDLORD_ROOM, "wxid_chenlaoban", "#办结 1001 已更换灯泡")
    last = bot_lines(room)[-1]
    assert "已办结" in last.text and "已更换灯泡" in last.text and "回复“好了”" in last.text
    assert TENANT in last.mentions
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "好了")
    [ticket] = await tickets(db)
    assert ticket.state == "closed" and not ticket.escalated
    assert await events(db, 1001) == ["open", "accept", "resolve", "confirm"]


async def test_reporter_reopens_when_not_fixed(ticket_bot, db, clock):
    bot, sim = ticket_bot
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    await say(bot, sim, clock, LANDLORD_ROOM, "wxid_chenlaoban", "#办结 1001 换了灯泡")
    room = await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "还没修好")
    [ticket] = await tickets(db)
    assert ticket.state == "reopened" and ticket.due_at is not None
    assert "重新打开" in bot_lines(room)[-1].text
    assert len(await tickets(db)) == 1  # not a new ticket


async def test_silence_closes_a_resolved_ticket_after_three_days(ticket_bot, db, clock):
    bot, sim = ticket_bot
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    await say(bot, sim, clock, LANDLORD_ROOM, "wxid_chenlaoban", "#办结 1001")
    await bot.settle(clock, until=clock.now() + timedelta(days=2, hours=23))
    assert (await tickets(db))[0].state == "resolved"
    await bot.settle(clock, until=clock.now() + timedelta(hours=2))
    assert (await tickets(db))[0].state == "closed"


async def test_missed_deadlines_climb_to_the_community(ticket_bot, db, clock):
    bot, sim = ticket_bot
    start = clock.now()  # Monday 09:00, outside quiet hours
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    await bot.settle(clock, until=start + timedelta(minutes=29))
    assert (await tickets(db))[0].escalation_level == 0
    await bot.settle(clock, until=start + timedelta(minutes=32))
    ticket = (await tickets(db))[0]
    assert ticket.escalation_level == 1 and ticket.assignee == "xu_dama" and ticket.escalated
    micro = sim.room_by_topic("老村东片微网格")
    assert any("@徐大妈" in m.text and "#1001" in m.text and "超时未受理" in m.text for m in bot_lines(micro))
    landlord_room = sim.room_by_topic(LANDLORD_ROOM)
    assert any("已上报至老村东片自建房（徐大妈）" in m.text for m in bot_lines(landlord_room))
    await bot.settle(clock, until=start + timedelta(minutes=95))
    ticket = (await tickets(db))[0]
    assert ticket.escalation_level == 3 and ticket.assignee == "li_hongmei"
    community = sim.room_by_topic("江桥社区工作群")
    assert any("@李红梅" in m.text and "#1001" in m.text for m in bot_lines(community))
    # at the top it stays overdue and is not announced again
    count = len(bot_lines(community))
    await bot.settle(clock, until=start + timedelta(hours=5))
    assert len(bot_lines(community)) == count
    assert await events(db, 1001) == ["open", "escalate", "escalate", "escalate"]


async def test_whoever_accepts_an_escalated_ticket_holds_it_from_there(ticket_bot, db, clock):
    """Gone up to 徐大妈 for want of an answer, then taken on by the landlord after all: he holds it (his deadlines,
    at his level), and a missed resolve limit goes up from him again."""
    bot, sim = ticket_bot
    start = clock.now()
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    await bot.settle(clock, until=start + timedelta(minutes=32))
    ticket = (await tickets(db))[0]
    assert ticket.assignee == "xu_dama" and ticket.escalation_level == 1
    await say(bot, sim, clock, LANDLORD_ROOM, "wxid_chenlaoban", "#受理 1001")
    ticket = (await tickets(db))[0]
    assert (ticket.state, ticket.assignee, ticket.escalation_level) == ("accepted", "fd_chen", 0)
    assert ticket.escalated  # its history stays
    # the 受理 of the one who holds it changes nothing
    await say(bot, sim, clock, LANDLORD_ROOM, "wxid_chenlaoban", "#受理 1001")
    assert (await tickets(db))[0].assignee == "fd_chen"


async def test_quiet_hours_hold_non_urgent_escalation_until_morning(ticket_bot, db, clock):
    bot, sim = ticket_bot
    await bot.settle(clock, until=clock.now().replace(hour=21, minute=50))
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    await say(bot, sim, clock, LANDLORD_ROOM, "sim:202 小何", "燃气味很重 快来人")
    await bot.settle(clock, until=clock.now().replace(hour=23, minute=0))
    normal, urgent = await tickets(db)
    assert normal.escalation_level == 0 and urgent.escalation_level >= 1  # urgent climbs at night too
    await bot.settle(clock, until=(clock.now() + timedelta(days=1)).replace(hour=7, minute=2))
    normal = (await tickets(db))[0]
    assert normal.escalation_level == 1


async def test_urgent_report_reaches_the_tier_above_at_once(ticket_bot, db, clock):
    bot, sim = ticket_bot
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "燃气味很重 快来人")
    micro = sim.room_by_topic("老村东片微网格")
    urgent = [m for m in bot_lines(micro) if "【紧急】" in m.text]
    assert urgent and "@徐大妈" in urgent[0].text and "wxid_xudama" in urgent[0].mentions
    ticket = (await tickets(db))[0]
    assert ticket.urgency == "urgent" and ticket.due_at - ticket.created_at == timedelta(minutes=10)


async def test_a_plus_one_that_says_it_is_urgent_makes_the_ticket_urgent(ticket_bot, db, clock):
    """"+1 电梯里还有人被困了" joins the lift ticket and raises it: urgent, the urgent deadline from now, its handler and
    the tier above told at once — as an urgent report would be."""
    bot, sim = ticket_bot
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼电梯坏了")
    [ticket] = await tickets(db)
    assert ticket.urgency == "normal" and ticket.due_at - ticket.created_at > timedelta(minutes=10)
    await bot.settle(clock, until=clock.now() + timedelta(minutes=2))
    micro = sim.room_by_topic("老村东片微网格")
    before, said = len(bot_lines(micro)), clock.now()
    room = await say(bot, sim, clock, LANDLORD_ROOM, "sim:202 小何", "+1 电梯里还有人被困了")
    [ticket] = await tickets(db)
    assert ticket.urgency == "urgent" and ticket.reporter_count == 2
    assert timedelta(minutes=10) <= ticket.due_at - said < timedelta(minutes=10, seconds=30)  # urgent: 10 min to accept
    receipt = bot_lines(room)[-1].text
    assert "已把您加入，共 2 人反映" in receipt and "已按紧急处理" in receipt
    alerts = [m.text for m in bot_lines(micro)[before:]]
    assert any("【紧急】工单 #1001" in t and "新反映：+1 电梯里还有人被困了" in t for t in alerts)
    assert "merge" in await events(db, 1001)
    # said again by the same person: nothing more is raised or sent up
    await say(bot, sim, clock, LANDLORD_ROOM, "sim:202 小何", "+1 电梯里还有人被困了")
    assert len([m for m in bot_lines(micro) if "【紧急】工单 #1001" in m.text]) == 1


async def test_security_goes_to_the_police_liaison(ticket_bot, db, clock):
    import dataclasses

    from bot.config import TicketConfig

    bot, sim = ticket_bot
    bot.config = dataclasses.replace(bot.config, tickets=TicketConfig(routing={"security": "民警"}))
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "有人在撬电动车")
    assert (await tickets(db))[0].assignee == "police_he"


async def test_leader_commands_list_view_reassign_escalate(ticket_bot, db, clock):
    bot, sim = ticket_bot
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    await say(bot, sim, clock, "老村西巷微网格", "sim:西巷9号 王叔", "垃圾堆了好几天没人收")
    grid = "江桥社区第二网格群"
    room = await say(bot, sim, clock, grid, "wxid_zhouqiang", "#工单")
    listing = bot_lines(room)[-1].text
    assert "未办结 2 件" in listing and "#1001" in listing and "#1002" in listing
    await say(bot, sim, clock, grid, "wxid_zhouqiang", "#查询 1001")
    assert "工单 #1001：待受理" in bot_lines(room)[-1].text
    await say(bot, sim, clock, grid, "wxid_zhouqiang", "#转派 1001 何警官")
    assert (await tickets(db))[0].assignee == "police_he"
    await say(bot, sim, clock, grid, "wxid_zhouqiang", "#上报 1002 需要城管")
    second = (await tickets(db))[1]
    assert second.escalation_level == 1 and second.escalated
    await say(bot, sim, clock, grid, "wxid_zhouqiang", "#受理 9999")
    assert "没有找到工单 #9999" in bot_lines(room)[-1].text


async def test_resident_asks_about_their_report(ticket_bot, db, clock):
    bot, sim = ticket_bot
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    room = await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "我报的灯修了没")
    assert "工单 #1001：待受理" in bot_lines(room)[-1].text
    other = await say(bot, sim, clock, "老村西巷微网格", "sim:西巷9号 王叔", "查询 1001")
    assert "暂不能查看" in bot_lines(other)[-1].text


async def test_photo_attaches_to_the_report(ticket_bot, db, clock, tmp_path):
    from bot.messages import MessageType

    bot, sim = ticket_bot
    room = sim.room_by_topic(LANDLORD_ROOM)
    await sim.post(room.id, TENANT, "", type=MessageType.IMAGE, payload=b"\x89PNG\r\n\x1a\nbefore")
    await bot.settle(clock)
    await say(bot, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    await sim.post(room.id, TENANT, "", type=MessageType.IMAGE, payload=b"\xff\xd8\xffafter")
    await bot.settle(clock)
    async with db.unit_of_work() as s:
        ticket = (await s.scalars(select(TicketRow))).one()
        images = list(await s.scalars(select(MessageRow).where(MessageRow.msg_type == "image")))
    assert [i.ticket_id for i in images] == [ticket.id, ticket.id]
    from pathlib import Path

    for image in images:
        path = Path(image.attachment)
        path = path if path.is_absolute() else bot.config.base_dir / path
        assert path.exists() and path.stat().st_size > 0
        path.unlink()
    assert "照片已附到工单 #1001" in bot_lines(room)[-1].text


async def test_restart_in_the_middle_of_a_deadline_misses_nothing_repeats_nothing(sample_config, db_spec, clock):
    from bot.app import GridBot
    from bot.transport.simulator import SimulatorTransport
    from tests.tickets.conftest import scripted

    start = clock.now()
    sim = SimulatorTransport.from_config(sample_config, clock)
    first = GridBot(sample_config, sim, clock=clock, database=db_spec.database(), parser=scripted, scheduler=False)
    await first.start()
    await say(first, sim, clock, LANDLORD_ROOM, TENANT, "3号楼楼道灯坏了")
    await first.settle(clock, until=start + timedelta(minutes=20))
    await first.stop()  # down from 09:20 ...
    await clock.advance_to(start + timedelta(minutes=50))  # ... past the 09:30 deadline
    sim2 = SimulatorTransport.from_config(sample_config, clock)
    second = GridBot(sample_config, sim2, clock=clock, database=db_spec.database(), parser=scripted,
                     scheduler=False)
    await second.start()
    await second.settle(clock, until=start + timedelta(minutes=55))
    db = second.db
    assert (await tickets(db))[0].escalation_level == 1  # the missed breach, found from stored state
    await second.stop()
    sim3 = SimulatorTransport.from_config(sample_config, clock)  # and a second restart repeats nothing
    third = GridBot(sample_config, sim3, clock=clock, database=db_spec.database(), parser=scripted, scheduler=False)
    await third.start()
    await third.settle(clock, until=start + timedelta(minutes=58))
    db = third.db
    assert (await tickets(db))[0].escalation_level == 1
    micro2 = [m for m in bot_lines(sim2.room_by_topic("老村东片微网格")) if "超时未受理" in m.text]
    micro3 = [m for m in bot_lines(sim3.room_by_topic("老村东片微网格")) if "超时未受理" in m.text]
    assert len(micro2) == 1 and micro3 == []
    assert await events(db, 1001) == ["open", "escalate"]
    await third.stop()
