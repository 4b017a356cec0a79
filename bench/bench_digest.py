"""Benchmark: the community digest of a development zone (11,473 groups) with 1,000,000 tickets and 50,000 notices.

The tickets span a year and every node of a generated zone (`gridbot gen-config --groups 11473`); 4 % are
still open. The 50,000 notices each went to one micro-grid's groups (about 88,000 delivered copies),
with a third of the members acknowledging the last week's. Measured: the day and the week digest of
the whole zone (current period + previous period, as sent), on SQLite and on PostgreSQL. Target ≤ 3 s each.

Run: .venv/bin/python bench/bench_digest.py [--tickets N] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench._machine import describe  # noqa: E402
from bot.cli.gen_config import generate  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.digests import DigestDesk  # noqa: E402
from bot.domain.digest import Schedule  # noqa: E402
from bot.domain.grid import node_path  # noqa: E402
from bot.domain.search import terms  # noqa: E402
from storage.models import MemberRow, NoticeAckRow, NoticeRow, OutboxRow, TicketRow, TicketTermRow  # noqa: E402
from storage.session import Database  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)
PG_URL = os.environ.get("GRIDBOT_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
CATEGORIES = ("safety", "sanitation", "repair", "dispute", "assistance", "security", "health", "inquiry", "other")


def ticket_rows(config, count: int, rng: random.Random, texts: list[str] | None = None):  # type: ignore[no-untyped-def]
    nodes = [n.code for n in config.tree]
    paths = {code: node_path(config.tree, code) for code in nodes}
    people = [key for key in config.people]
    year = 365 * 24 * 3600
    for number in range(1, count + 1):
        code = rng.choice(nodes)
        created = NOW.astimezone(timezone.utc) - timedelta(seconds=rng.randrange(year))
        urgency = rng.choices(("urgent", "normal", "low"), (5, 80, 15))[0]
        open_ = rng.random() < 0.04
        accept = rng.randrange(60, 4 * 3600)
        resolve = accept + rng.randrange(600, 72 * 3600)
        accepted = created + timedelta(seconds=accept)
        resolved = created + timedelta(seconds=resolve)
        state = rng.choice(("new", "accepted")) if open_ else rng.choice(("resolved", "closed", "closed", "closed"))
        done = state in ("resolved", "closed")
        yield dict(
            number=number, state=state, category=rng.choice(CATEGORIES), urgency=urgency,
            escalation_level=0, node_code=code, node_path=paths[code], room_key=None, room_id=None,
            reporter_id=f"r{number % 50000}", reporter_name="居民",
            text=rng.choice(texts) if texts else "楼道灯不亮，电话13812345678",
            location=None, assignee=rng.choice(people), assignee_node=code, reporter_count=1,
            escalated=rng.random() < 0.19, breached=rng.random() < 0.1,
            due_at=created + timedelta(hours=24) if open_ else None,
            accepted_at=accepted if (done or state == "accepted") else None,
            resolved_at=resolved if done else None, closed_at=resolved + timedelta(days=1) if state == "closed" else None,
            accept_seconds=accept if (done or state == "accepted") else None, resolve_seconds=resolve if done else None,
            created_at=created, updated_at=created)


async def _insert_tickets(conn, batch: list[dict], last_id: int, *, index: bool) -> int:  # type: ignore[no-untyped-def]
    """Insert a batch (ids follow on from `last_id`) and, when asked, its search terms."""
    for offset, row in enumerate(batch, start=1):
        row["id"] = last_id + offset
    await conn.execute(TicketRow.__table__.insert(), batch)
    if index:
        postings = [{"term": term, "ticket_id": row["id"]} for row in batch for term in terms(row["text"])]
        await conn.execute(TicketTermRow.__table__.insert(), postings)
    return last_id + len(batch)


async def fill(db: Database, config, tickets: int, notices: int, *,  # type: ignore[no-untyped-def]
               texts: list[str] | None = None) -> float:
    """`texts`: residents' words to draw from (and index for search, as ticket creation does)."""
    rng = random.Random(7)
    started = time.perf_counter()
    micro = [n for n in config.tree if n.tier == "微网格"]
    groups_of = {n.code: [r.key for d in config.tree.descendants(n.code) for r in d.rooms] for n in micro}
    batch: list[dict] = []
    async with db.engine.begin() as conn:
        number = 0
        for row in ticket_rows(config, tickets, rng, texts):
            batch.append(row)
            if len(batch) == 20_000:
                number = await _insert_tickets(conn, batch, number, index=texts is not None)
                batch = []
        if batch:
            await _insert_tickets(conn, batch, number, index=texts is not None)
        members = [dict(room_key=key, member_id=f"{key}-{i}", display_name=f"{i}01 住户", household=f"{i}01",
                        active=True, joined_at=NOW) for n in micro for key in groups_of[n.code] for i in range(6)]
        for start in range(0, len(members), 20_000):
            await conn.execute(MemberRow.__table__.insert(), members[start:start + 20_000])
        year = 365 * 24 * 3600
        notice_rows, outbox, acks = [], [], []
        for number in range(1, notices + 1):
            node = rng.choice(micro)
            sent = NOW.astimezone(timezone.utc) - timedelta(seconds=rng.randrange(year))
            notice_rows.append(dict(id=number, number=number, sender_key="x", node_code=node.code, text="通知",
                                    priority=6, room_count=len(groups_of[node.code]), created_at=sent))
            for key in groups_of[node.code]:
                outbox.append(dict(to_kind="room", to_id=key, text="通知", mentions=[], priority=6, kind="notice",
                                   ref=f"notice:{number}", status="sent", attempts=1, created_at=sent, sent_at=sent))
                if NOW.astimezone(timezone.utc) - sent < timedelta(days=8):
                    acks.extend(dict(notice_id=number, room_key=key, member_id=f"{key}-{i}", member_name="住户",
                                     household=f"{i}01", at=sent) for i in range(2))
        for table, rows in ((NoticeRow, notice_rows), (OutboxRow, outbox), (NoticeAckRow, acks)):
            for start in range(0, len(rows), 20_000):
                await conn.execute(table.__table__.insert(), rows[start:start + 20_000])
        if db.engine.dialect.name == "sqlite":
            await conn.execute(text("ANALYZE"))
    if db.engine.dialect.name == "postgresql":  # what autovacuum does on a live server after bulk loads
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    print(f"  filled: {tickets:,} tickets, {notices:,} notices, {len(outbox):,} delivered copies, "
          f"{len(acks):,} acks in {time.perf_counter() - started:.0f} s")
    return time.perf_counter() - started


async def measure(db: Database, config, kind: str) -> float:  # type: ignore[no-untyped-def]
    schedule = Schedule.parse(kind, "18:00" if kind == "day" else "mon 08:00")
    period = schedule.period_ending(schedule.last_fire(NOW, TZ))
    best = None
    text_out = ""
    for _ in range(3):
        started = time.perf_counter()
        async with db.unit_of_work() as session:
            text_out, _ = await DigestDesk(session, config, NOW).compose(config.tree.roots[0], period,
                                                                         daily=kind == "week")
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
        print(f"    {kind}: {elapsed:.2f} s")
    assert "新增" in text_out
    return best or 0.0


async def run_backend(backend: str, tickets: int, notices: int, config, keep: str | None = None  # type: ignore[no-untyped-def]
                      ) -> dict[str, float]:
    print(f"{backend}:")
    if backend == "sqlite":
        path = Path(keep) if keep else Path(tempfile.mkdtemp()) / "digest.db"
        filled = path.exists()
        db = Database(f"sqlite+aiosqlite:///{path}")
    else:
        filled = False
        schema = f"bench_digest_{os.getpid()}"
        admin = Database(PG_URL)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        db = Database(PG_URL, schema=schema)
    try:
        await db.upgrade()
        if not filled:
            await fill(db, config, tickets, notices)
        return {kind: await measure(db, config, kind) for kind in ("day", "week")}
    finally:
        await db.dispose()
        if backend == "postgresql":
            admin = Database(PG_URL)
            async with admin.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await admin.dispose()


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--notices", type=int, default=50_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--keep", help="SQLite file to fill once and reuse on later runs (for profiling)")
    args = parser.parse_args()
    config = parse_config(generate(11_473))
    print(f"digest benchmark on {describe()}")
    print(f"zone: {sum(1 for _ in config.tree.rooms()):,} groups, {len(config.tree):,} nodes")
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = {b: asyncio.run(run_backend(b, args.tickets, args.notices, config, args.keep)) for b in backends}
    for backend, figures in results.items():
        print(f"{backend}: community day digest {figures['day']:.2f} s, week digest (with chart series) "
              f"{figures['week']:.2f} s (best of 3; target ≤ 3 s)")


if __name__ == "__main__":
    main()
