"""Who a notice's figures count (residents, not staff), what counts as a reply, who follows which part,
what reminders say, and quiet hours for deliveries; on both databases through the simulator."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import ReviewConfig
from bot.domain.acks import Member, answers_notice, count_room, opens_with_ack, staff_ids
from bot.domain.fanout import notice_title
from bot.domain.people import Directory
from storage.models import NoticeAckRow, OutboxRow, TicketRow

COMMUNITY = "江桥社区工作群"
SECRETARY = "wxid_lihongmei"
BUILDING = "江桥花苑1号楼微网格"  # residents 1-101, 1-202, 1-301, 1-502; staff 张阿姨, 陈丽, 孙管家
GAS = "#通知 截止 明天18点 燃气安全检查，请各户明天在家配合入户检查"


@pytest.fixture
def bot(sim_bot):
    return sim_bot


async def say(bot, sim, clock, topic, sender, text):
    room = sim.room_by_topic(topic)
    await sim.post(room.id, sender, text)
    await bot.settle(clock)
    return room


def last_reply(room):
    return [m for m in room.history if m.from_bot][-1].text


# -- the pure rules ---------------------------------------------------------------------------------------

def test_staff_are_the_roles_at_the_node_and_above_but_a_landlord_is_audience_in_their_group(sample_config):
    directory = Directory(sample_config.tree, sample_config.people, sample_config.roles)
    staff = staff_ids(sample_config.tree, directory, "JQS-01-01", sender_key="li_hongmei", bot_id="bot")
    # 微网格长, 网格长, 物业管家 (handles only), 社区书记/主任, 民警, the sender and the bot
    assert {"wxid_zhangayi", "wxid_chenli", "wxid_sunguanjia", "wxid_lihongmei", "wxid_wangjianguo",
            "wxid_hejingguan", "bot"} <= staff
    assert "wxid_qianlaoshi" not in staff  # the 楼道长 below is not staff in the building's group
    landlord_group = staff_ids(sample_config.tree, directory, "JQS-02-01-A")
    assert "wxid_chenlaoban" not in landlord_group and "wxid_xudama" in landlord_group


def test_one_function_counts_households_of_the_audience():
    members = [Member("a", "3-201 王芳", "3-201", True), Member("b", "3-201 李强", "3-201"),
               Member("c", "3-202 张三", "3-202"), Member("d", "小杨", None, True),
               Member("staff", "张阿姨", None, True)]
    room = count_room("r", "微网格", members, {"staff"})
    assert (room.members, room.acked, room.households, room.acked_households) == (4, 2, 3, 2)
    assert room.missing == (("c", "3-202 张三"),)  # 李强's household has replied; staff are never chased


def test_what_counts_as_a_reply():
    assert not answers_notice("谢谢大家") and not answers_notice("辛苦了🙏") and not answers_notice("感谢！")
    assert answers_notice("收到谢谢") and answers_notice("好的知道了，会准时在家")
    assert opens_with_ack("收到，另外楼下垃圾三天没人收了") and not opens_with_ack("楼下垃圾三天没人收了")


def test_a_notice_is_named_by_its_first_words():
    assert notice_title("燃气安全检查，请各户明天在家配合入户检查") == "燃气安全检查"
    assert notice_title("《燃气安全检查》请各户在家") == "燃气安全检查"
    assert notice_title("本周六上午九点到十二点全社区停水检修请提前储水") == "本周六上午九点到十二点全…"


# -- through the bot --------------------------------------------------------------------------------------

async def test_receipts_and_reminders_count_residents_not_staff(bot, clock):
    b, sim = bot
    await say(b, sim, clock, COMMUNITY, SECRETARY, GAS)
    await say(b, sim, clock, BUILDING, "sim:1-101 王芳", "收到")
    await say(b, sim, clock, BUILDING, "wxid_zhangayi", "收到")  # the 微网格长: staff, not counted
    await say(b, sim, clock, "东头12号房东租客群", "wxid_chenlaoban", "收到")  # the landlord: audience
    receipt = last_reply(await say(b, sim, clock, "老村东片微网格", "wxid_xudama", "#回执 1"))
    assert "东头12号房东租客群：1/5 户" in receipt  # 陈老板 counted; 徐大妈 (微网格长) is staff there
    # the 微网格长 follows the secretary's notice in her building: its group and its two stairwell groups
    receipt = last_reply(await say(b, sim, clock, BUILDING, "wxid_zhangayi", "#回执 1"))
    assert "合计：1/10 户、1/10 人已回复（3 个群）" in receipt
    assert f"{BUILDING}：1/4 户（1/4 人）" in receipt
    line = receipt.split(f"{BUILDING}：")[1].split("\n")[0]
    assert "张阿姨" not in line and "陈丽" not in line and "孙管家" not in line
    await b.settle(clock, until=(clock.now() + timedelta(days=1)).replace(hour=16, minute=5))
    [reminder] = [m for m in sim.room_by_topic(BUILDING).history if m.from_bot and "提醒" in m.text]
    assert "提醒：《燃气安全检查》还没回复，截止 11月24日 18:00" in reminder.text
    assert set(reminder.mentions) == {"sim:1-202 李强", "sim:1-301 赵敏", "sim:1-502 孙大爷"}


async def test_replies_in_own_words_and_with_a_report_count_thanks_do_not(bot, db, clock, sample_config):
    b, sim = bot
    b.config = dataclasses.replace(sample_config, review=ReviewConfig(ticket=0.3, review=0.1))
    await say(b, sim, clock, COMMUNITY, SECRETARY, GAS)
    await say(b, sim, clock, BUILDING, "sim:1-101 王芳", "好的知道了，会准时在家")
    await say(b, sim, clock, BUILDING, "sim:1-202 李强", "谢谢大家")
    await say(b, sim, clock, BUILDING, "sim:1-301 赵敏", "收到，另外1号楼楼下垃圾三天没人收了，很臭")
    async with db.unit_of_work() as s:
        acks = {a.member_name for a in await s.scalars(select(NoticeAckRow))}
        tickets = list(await s.scalars(select(TicketRow)))
    assert acks == {"1-101 王芳", "1-301 赵敏"}
    assert len(tickets) == 1 and tickets[0].category == "sanitation"


async def test_a_grid_leader_follows_the_secretarys_notice_in_their_grid(bot, clock):
    b, sim = bot
    await say(b, sim, clock, COMMUNITY, SECRETARY, GAS)
    await say(b, sim, clock, BUILDING, "sim:1-101 王芳", "收到")
    receipt = last_reply(await say(b, sim, clock, "江桥社区第一网格群", "wxid_chenli", "#回执 1"))
    assert "不是您发的" not in receipt and "您负责的范围" in receipt
    assert "1/" in receipt and "东头12号" not in receipt and "通仙路" not in receipt
    # a 楼道长 follows their own stairwell group only
    receipt = last_reply(await say(b, sim, clock, "1号楼1单元楼道群", "wxid_qianlaoshi", "#回执 1"))
    assert "1号楼1单元楼道群：0/3 户" in receipt and BUILDING not in receipt


async def test_routine_notices_wait_for_the_morning_urgent_ones_go_at_once(bot, db, clock):
    b, sim = bot
    await b.settle(clock, until=clock.now().replace(hour=23))
    room = sim.room_by_topic(COMMUNITY)
    await sim.post(room.id, SECRETARY, "#通知 下周一起垃圾分类新规")
    await sim.post(room.id, SECRETARY, "#通知 紧急 3号楼燃气泄漏，请勿开火")
    await b.settle(clock)
    routine, urgent = [m.text for m in room.history if m.from_bot and "已安排发送" in m.text]
    assert "夜间免打扰，将于 07:00 开始发送" in routine and "11月24日 07:" in routine
    assert "夜间免打扰" not in urgent
    copies = [m for m in sim.room_by_topic(BUILDING).history if m.from_bot]
    first = [m.at.astimezone(b.config.tz) for m in copies if "#1】" in m.text]
    second = [m.at.astimezone(b.config.tz) for m in copies if "#2】" in m.text]
    assert len(first) == 1 and (first[0].day, first[0].hour) == (24, 7)  # held until the quiet hours end
    assert len(second) == 1 and (second[0].day, second[0].hour) == (23, 23)  # urgent: at once
    async with db.unit_of_work() as s:
        assert {r.status for r in await s.scalars(select(OutboxRow).where(OutboxRow.kind == "notice"))} == {"sent"}
