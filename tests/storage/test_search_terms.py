"""Search terms: two-character Chinese words are findable; tickets made before the index are indexed by the migration."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, text

from bot.domain.search import query_terms, terms
from storage.models import TicketTermRow
from storage.session import alembic_config


def test_terms_are_pairs_of_characters_and_words():
    assert {"燃气", "气味", "3", "号楼"} <= terms("3号楼燃气味很重")
    assert "ok" in terms("ＯＫ 了")  # full-width, upper case
    assert query_terms("燃气") == {"燃气"} and query_terms("燃") == set()  # one character: no index term
    assert query_terms("燃气泄漏") <= terms("厨房燃气泄漏了")


async def test_the_migration_indexes_tickets_that_were_there_before(tmp_path):
    from storage.session import Database

    db = Database(f"sqlite+aiosqlite:///{tmp_path}/old.db")

    def at_0006(connection):  # type: ignore[no-untyped-def]
        from alembic import command

        command.upgrade(alembic_config(connection), "0006")

    async with db.engine.begin() as conn:
        await conn.run_sync(at_0006)
        now = datetime(2026, 11, 1, tzinfo=timezone.utc).replace(tzinfo=None)
        await conn.execute(text(
            "INSERT INTO tickets (id, number, state, category, urgency, escalation_level, node_code, reporter_id, "
            "reporter_name, text, reporter_count, escalated, breached, created_at, updated_at) VALUES "
            "(1, 1001, 'new', 'safety', 'urgent', 0, 'JQS', 'r', '王芳', '3号楼燃气味很重', 1, 0, 0, :now, :now)"),
            {"now": now})
    await db.upgrade()
    async with db.unit_of_work() as s:
        found = set(await s.scalars(select(TicketTermRow.term).where(TicketTermRow.ticket_id == 1)))
    await db.dispose()
    assert found == terms("3号楼燃气味很重")
