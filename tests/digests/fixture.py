"""A hand-built day of tickets and notices with answers worked out by hand (see test_figures.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.domain.grid import node_path
from storage.models import MemberRow, NoticeAckRow, NoticeRow, OutboxRow, TicketRow
from storage.session import Database

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def ticket(config: Config, number: int, node: str, category: str, urgency: str, state: str, created: datetime, *,
           accepted: datetime | None = None, resolved: datetime | None = None, closed: datetime | None = None,
           due: datetime | None = None, assignee: str | None = None, breached: bool = False,
           escalated: bool = False, text: str = "楼道灯不亮") -> TicketRow:
    return TicketRow(
        number=number, state=state, category=category, urgency=urgency, escalation_level=int(escalated),
        node_code=node, node_path=node_path(config.tree, node), room_key=None, room_id=None,
        reporter_id=f"r{number}", reporter_name=f"居民{number}", text=text, location={}, assignee=assignee,
        assignee_node=node, reporter_count=1, escalated=escalated, breached=breached, due_at=due,
        accepted_at=accepted, resolved_at=resolved, closed_at=closed,
        accept_seconds=int((accepted - created).total_seconds()) if accepted else None,
        resolve_seconds=int((resolved - created).total_seconds()) if resolved else None,
        created_at=created, updated_at=created)


async def build_day(db: Database, config: Config) -> None:
    """Tickets around 2026-11-22 (local) and one notice to two groups."""
    rows = [
        ticket(config, 1, "JQS-01-01", "repair", "normal", "closed", at(22, 8), accepted=at(22, 8, 10),
               resolved=at(22, 12), closed=at(22, 20), assignee="chen_li"),
        ticket(config, 2, "JQS-01-03", "safety", "urgent", "resolved", at(22, 9), accepted=at(22, 9, 30),
               resolved=at(22, 15), assignee="chen_li", breached=True, escalated=True,
               text="3号楼燃气味很重 联系电话13812345678"),
        ticket(config, 3, "JQS-02-01", "sanitation", "normal", "new", at(22, 10), due=at(22, 10, 30),
               assignee="zhou_qiang"),
        ticket(config, 4, "JQS-02-01", "sanitation", "low", "accepted", at(22, 11), accepted=at(22, 13),
               due=at(25, 11), assignee="zhou_qiang"),
        ticket(config, 5, "JQS-01-01", "repair", "normal", "resolved", at(21, 10), accepted=at(21, 10, 20),
               resolved=at(22, 9), assignee="chen_li"),
        ticket(config, 6, "JQS-03-01", "dispute", "normal", "new", at(21, 12), due=at(21, 12, 30),
               assignee="wu_saifen"),
        ticket(config, 7, "JQS-02-01", "safety", "urgent", "cancelled", at(22, 22), closed=at(22, 22, 30),
               text="池塘边冒烟了"),
    ]
    micro = config.tree.node("JQS-01-03").rooms[0].key
    landlord = config.tree.node("JQS-02-01-A").rooms[0].key
    async with db.unit_of_work() as session:
        session.add_all(rows)
        notice = NoticeRow(number=1, sender_key="li_hongmei", node_code="JQS", text="周六消防演练",
                           created_at=at(22, 9, 50))
        old = NoticeRow(number=2, sender_key="li_hongmei", node_code="JQS", text="医保缴费", created_at=at(21, 9))
        session.add_all([notice, old])
        await session.flush()
        for room, sent in ((micro, at(22, 10)), (landlord, at(22, 10, 5))):
            session.add(OutboxRow(to_kind="room", to_id=room, text=notice.text, mentions=[], priority=6,
                                  kind="notice", ref=f"notice:{notice.id}", status="sent", attempts=1,
                                  created_at=at(22, 9, 50), sent_at=sent))
        session.add(OutboxRow(to_kind="room", to_id=micro, text=old.text, mentions=[], priority=6, kind="notice",
                              ref=f"notice:{old.id}", status="sent", attempts=1, created_at=at(21, 9),
                              sent_at=at(21, 9, 1)))
        for room, member, name, household in (
                (micro, "m1", "3-201 王芳", "3-201"), (micro, "m2", "3-201 李强", "3-201"),
                (micro, "m3", "3-202 张三", "3-202"),
                (landlord, "t1", "1室 小杨", "1室"), (landlord, "t2", "2室 小吴", "2室")):
            session.add(MemberRow(room_key=room, member_id=member, display_name=name, household=household,
                                  active=True, joined_at=at(1, 9)))
        # 王芳 and 李强 share a household: one household acknowledged; a passer-by who is no member does not count
        for member, name in (("m1", "3-201 王芳"), ("m2", "3-201 李强"), ("x9", "路人")):
            session.add(NoticeAckRow(notice_id=notice.id, room_key=micro, member_id=member, member_name=name,
                                     household=None, at=at(22, 10, 30)))
        # yesterday's notice was acknowledged by both households of the micro-grid
        for member, name in (("m1", "3-201 王芳"), ("m3", "3-202 张三")):
            session.add(NoticeAckRow(notice_id=old.id, room_key=micro, member_id=member, member_name=name,
                                     household=None, at=at(21, 9, 30)))


NOW = at(23, 9)
