"""`#回执` at zone scale counts in SQL (a grouped count, staff taken out household by household): its figures must
be exactly those of `count_room` over the member lists, whoever is staff, wherever they live, on both databases."""

from __future__ import annotations

import random

from sqlalchemy import select

from bot.notices import NoticeDesk
from storage.models import MemberRow, NoticeAckRow, NoticeRow, OutboxRow
from storage.notice_repository import NoticeRepository

COMMUNITY = "江桥社区工作群"
SECRETARY = "wxid_lihongmei"
# staff somewhere (some of them in the lineage of a given group, some only elsewhere), and the secretary
STAFF = ["wxid_lihongmei", "wxid_chenli", "wxid_zhangayi", "wxid_sunguanjia", "wxid_hejingguan", "wxid_zhouqiang",
         "wxid_qianlaoshi", "wxid_chenlaoban", "wxid_xudama", "wxid_huashu"]
HOUSEHOLDS = ["1-101", "1-102", "2-201", "", None, None]


def figures(rooms):
    return [(r.room_key, r.tier, r.members, r.acked, r.households, r.acked_households) for r in rooms]


async def test_grouped_count_equals_count_room_whoever_is_staff(sim_bot, db, clock):
    bot, sim = sim_bot
    await sim.post(sim.room_by_topic(COMMUNITY).id, SECRETARY, "#通知 本周六全社区停水，请提前储水")
    await bot.settle(clock)
    now = clock.now()

    async def fill(session):  # type: ignore[no-untyped-def]
        notice = await session.scalar(select(NoticeRow).where(NoticeRow.number == 1))
        rooms = list(await session.scalars(select(OutboxRow.to_id).where(
            OutboxRow.ref == f"notice:{notice.id}", OutboxRow.status == "sent")))
        known = set((await session.execute(select(MemberRow.room_key, MemberRow.member_id))).tuples())
        pick = random.Random(15)
        for n, room in enumerate(rooms):
            people = [f"sim:r{n}-{i}" for i in range(pick.randint(0, 6))] + pick.sample(STAFF, pick.randint(0, 4))
            for member in people:
                if (room, member) in known:
                    continue
                household = pick.choice(HOUSEHOLDS)
                session.add(MemberRow(room_key=room, member_id=member, display_name=member[-6:], household=household,
                                      active=pick.random() > 0.1, joined_at=now))
                if pick.random() < 0.45:
                    session.add(NoticeAckRow(notice_id=notice.id, room_key=room, member_id=member,
                                             member_name=member[-6:], household=household, at=now))
        await session.flush()
        return notice

    notice = await db.run(fill)

    async def count(session):  # type: ignore[no-untyped-def]
        desk = NoticeDesk(session, bot.config, bot.directory, now, sim.self_id)
        found = {}
        for within in (None, ("JQS-01",), ("JQS-02-01", "JQS-03")):
            found[within] = (await desk.room_acks(notice, within), await desk.room_acks(notice, within, names=False))
        raw = await NoticeRepository(session).room_counts(notice.id)
        return found, raw

    found, raw = await db.run(count)
    for within, (listed, counted) in found.items():
        assert figures(counted) == figures(listed), within
        assert all(not r.missing for r in counted)
    listed = found[None][0]
    # the data must make the staff matter: raw counts (nobody left out) differ from the audience's in many groups
    differ = [r for r in listed if raw.get(r.room_key, (0, 0, 0, 0)) != (r.members, r.acked, r.households,
                                                                           r.acked_households)]
    assert len(differ) >= 10 and sum(r.acked_households for r in listed) > 0


async def test_the_receipt_names_who_is_missing_in_the_lagging_groups(sim_bot, db, clock):
    bot, sim = sim_bot
    await sim.post(sim.room_by_topic("老村东片微网格").id, "wxid_xudama", "#通知 周五前登记出租屋租客信息")
    await bot.settle(clock)
    tenants = sim.room_by_topic("东头12号房东租客群")
    await sim.post(tenants.id, "sim:201 小刘", "收到")
    await sim.post(sim.room_by_topic("老村东片微网格").id, "wxid_xudama", "#回执")
    await bot.settle(clock)
    text = [m for m in sim.room_by_topic("老村东片微网格").history if m.from_bot][-1].text
    assert "东头12号房东租客群：1/5 户" in text and "302 小美" in text and "201 小刘" not in text.split("未回复：")[1]
