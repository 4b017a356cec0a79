"""The schema the migrations build is the models' schema, and the duplicate look-up keeps its own indexes.

The migrations, not `create_all`, build every database (tests and deployments alike), so an index a model declares
and no migration creates — or one a migration left that the models dropped — would go unseen: checked here on both
backends, index by index.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import inspect, text
from sqlalchemy.dialects import postgresql

from storage.models import Base
from storage.session import Database
from storage.duplicates import duplicate_query as _duplicate_query


async def test_the_migrated_indexes_are_the_models_indexes(db):
    def indexes(connection):  # type: ignore[no-untyped-def]
        found = inspect(connection)
        return {(table, ix["name"], tuple(ix["column_names"]))
                for table in found.get_table_names() if table != "alembic_version"
                for ix in found.get_indexes(table) if not ix.get("duplicates_constraint")}  # a UNIQUE constraint's

    async with db.engine.connect() as conn:
        migrated = await conn.run_sync(indexes)
    declared = {(table.name, ix.name, tuple(c.name for c in ix.columns))
                for table in Base.metadata.sorted_tables for ix in table.indexes}
    assert migrated - declared == set(), "indexes the migrations leave that no model declares"
    assert declared - migrated == set(), "indexes a model declares that no migration creates"


async def test_the_duplicate_look_up_reads_the_problem_indexes_while_statistics_are_young(pg_spec):
    """A new deployment's planner knows its tables from when they held a few rows (autovacuum catches up later):
    the look-up every report makes must still go by group/node *and* problem, not read the group's every ticket."""
    db = pg_spec.database()
    start = datetime(2026, 12, 1, tzinfo=timezone.utc)
    insert = text(
        "INSERT INTO tickets (number, state, category, urgency, escalation_level, node_code, room_key, reporter_id, "
        "reporter_name, text, problem_key, reporter_count, escalated, breached, created_at, updated_at) VALUES "
        "(:number, 'new', 'facility', 'normal', 0, :node, :room, 'r', '王芳', '楼道灯坏了', :key, 1, false, false, "
        ":at, :at)")
    rows = [{"number": 1000 + i, "node": f"N{i % 30}", "room": f"room{i % 30}", "key": f"p{i % 7}:坏",
             "at": start + timedelta(seconds=i)} for i in range(30)]
    try:
        async with db.engine.begin() as conn:
            await conn.execute(insert, rows)
            await conn.execute(text("ANALYZE tickets"))  # the statistics of a deployment's first minutes
            await conn.execute(insert, [{"number": 2000 + i, "node": "N1", "room": "room1", "key": f"p{i % 40}:坏",
                                         "at": start + timedelta(minutes=1, seconds=i)} for i in range(2000)])
            query = _duplicate_query(True, True, False, False, True, False).params(
                room_key="room1", node_code="N1", problem_key="p3:坏", building="3", since=start, echo_since=start)
            sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            plan = "\n".join(row[0] for row in await conn.execute(text("EXPLAIN " + sql)))
    finally:
        await db.dispose()
    assert "ix_tickets_room_problem" in plan and "ix_tickets_node_problem" in plan, plan


async def test_a_handler_s_waiting_tickets_are_read_by_their_assignee(sqlite_template, tmp_path):
    """"好的" from a handler asks which of their tickets wait for acceptance: read through the assignee's index,
    not every waiting ticket of the deployment (SQLite's plan, which does not depend on statistics; the index
    itself is checked on both backends above)."""
    import shutil

    from sqlalchemy import event

    from storage.ticket_repository import TicketRepository

    shutil.copy(sqlite_template, tmp_path / "plan.db")  # the migrated schema
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/plan.db")
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    try:
        async with db.unit_of_work() as s:
            event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
            await TicketRepository(s).awaiting_acceptance("grid:JQS-01")
            event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
            statement, parameters = next((st, p) for st, p in seen if "FROM tickets" in st)
            conn = await s.connection()
            plan = " ".join(str(row[-1]) for row in await conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters))
    finally:
        await db.dispose()
    assert "ix_tickets_assignee_state" in plan, plan
