"""The overview's queries (storage/web_repository.py), on both backends: tickets created and resolved per local
day in a subtree, open / urgent / overdue counts, the 待确认 queue, notices posted since a time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from storage.models import ReviewRow, TicketRow
from storage.notice_repository import NoticeRepository
from storage.web_repository import WebRepository

UTC = timezone.utc
T0 = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # midnight of 11-21 in Beijing


def ticket(number: int, path: str, created: datetime, *, resolved: datetime | None = None, urgency: str = "normal",
           due: datetime | None = None) -> TicketRow:
    code = path.strip("/").split("/")[-1]
    return TicketRow(number=number, state="resolved" if resolved else "new", category="repair", urgency=urgency,
                     node_code=code, node_path=path, reporter_id="r", reporter_name="r", text=f"#{number}",
                     created_at=created, updated_at=created, resolved_at=resolved, due_at=due)


async def test_daily_flow_counts_each_day_in_the_subtree(db):
    days = [(T0 + timedelta(days=i), T0 + timedelta(days=i + 1)) for i in range(3)]
    grid1, grid2 = "/JQS/JQS-01/JQS-01-03/", "/JQS/JQS-02/JQS-02-01/"
    async with db.unit_of_work() as s:
        s.add_all([
            ticket(1, grid1, T0 - timedelta(seconds=1)),  # the evening before: outside
            ticket(2, grid1, T0, resolved=T0 + timedelta(days=1)),  # the first instant of day 0, resolved day 1
            ticket(3, grid1, T0 + timedelta(hours=23, minutes=59), resolved=T0 + timedelta(days=3)),  # resolved after
            ticket(4, grid2, T0 + timedelta(days=2, hours=5), resolved=T0 + timedelta(days=2, hours=6)),
        ])
    async with db.unit_of_work() as s:
        repo = WebRepository(s)
        assert await repo.daily_flow(None, days) == [(2, 0), (0, 1), (1, 1)]
        assert await repo.daily_flow(["/JQS/JQS-01/"], days) == [(2, 0), (0, 1), (0, 0)]
        assert await repo.daily_flow(["/JQS/JQS-02/"], days) == [(0, 0), (0, 0), (1, 1)]
        assert await repo.daily_flow(None, []) == []


async def test_open_counts_and_the_review_queue(db):
    now = T0 + timedelta(days=1)
    async with db.unit_of_work() as s:
        s.add_all([
            ticket(1, "/JQS/JQS-01/JQS-01-03/", T0, urgency="urgent"),
            ticket(2, "/JQS/JQS-01/JQS-01-04/", T0, due=now - timedelta(minutes=1)),
            ticket(3, "/JQS/JQS-02/JQS-02-01/", T0, urgency="urgent", due=now - timedelta(hours=1)),
            ticket(4, "/JQS/JQS-02/JQS-02-01/", T0, resolved=now, urgency="urgent"),  # resolved: not open
        ])
        for i, (path, state) in enumerate((("/JQS/JQS-01/JQS-01-03/", "pending"), ("/JQS/JQS-02/JQS-02-01/", "pending"),
                                           ("/JQS/JQS-01/JQS-01-04/", "pending"),
                                           ("/JQS/JQS-01/JQS-01-04/", "dismissed"))):
            s.add(ReviewRow(created_at=T0 + timedelta(minutes=i), node_code=path.strip("/").split("/")[-1],
                            node_path=path, sender_id="s", sender_name="s", text=f"r{i}", state=state))
    async with db.unit_of_work() as s:
        repo = WebRepository(s)
        assert await repo.open_counts(None, now) == (3, 2, 2)
        assert await repo.open_counts(["/JQS/JQS-01/"], now) == (2, 1, 1)
        count, latest = await repo.review_queue(None, limit=2)
        assert count == 3 and [r.text for r in latest] == ["r2", "r1"]
        count, latest = await repo.review_queue(["/JQS/JQS-01/"])
        assert count == 2 and [r.text for r in latest] == ["r2", "r0"]


async def test_recent_notices_since(db, clock):
    async with db.unit_of_work() as s:
        repo = NoticeRepository(s)
        for number, days_ago in ((1, 9), (2, 3), (3, 0)):
            await repo.create(number=number, sender_key="li_hongmei", node_code="JQS", text=f"通知 {number}",
                              room_count=1, created_at=clock.now() - timedelta(days=days_ago))
    async with db.unit_of_work() as s:
        repo = NoticeRepository(s)
        assert [n.number for n in await repo.recent(10, since=clock.now() - timedelta(days=7))] == [3, 2]
        assert [n.number for n in await repo.recent(10)] == [3, 2, 1]
