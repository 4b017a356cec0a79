"""Three real `gridbot run --account` processes on PostgreSQL: a notice to 2,400 groups, one process SIGKILLed
in the middle and restarted. Every group gets the notice; the only repeats are the killed process's in-flight one."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bot.cli.gen_config import generate
from bot.config import load_config
from bot.domain.people import Directory
from bot.messages import Address
from bot.notices import NoticeDesk
from storage.models import AccountRow, OutboxRow, RoomRow
from storage.outbox_repository import OutboxRepository
from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[2]
GROUPS = 2_400


def zone_config(tmp_path: Path) -> Path:
    """A generated zone whose communities are split over three accounts; one community is in two accounts."""
    text = generate(GROUPS)
    communities = sorted({line.split("code: ")[1] for line in text.splitlines()
                          if line.strip().startswith("- code: Z-C") and line.count("-") == 2})
    thirds = [communities[0::3], communities[1::3], communities[2::3] + communities[:1]]
    accounts = "\n".join(
        f"    - {{name: {name}, sim_nodes: [{', '.join(nodes)}], send_budget: {{per_minute: 3000, jitter: 0}}}}"
        for name, nodes in zip("abc", thirds))
    transport = (f"transport:\n  kind: simulator\n  sim_log: {tmp_path / 'wechat.jsonl'}\n  accounts:\n{accounts}")
    text = text.replace("transport: {kind: simulator, send_budget: {per_minute: 20, jitter: 0.3}}", transport)
    # the processes run on the real clock: no quiet hours, or a notice posted at night would rightly wait till 07:00
    text += "tickets: {quiet_hours: \"off\"}\nnotices: {quiet_hours: \"off\"}\n"
    path = tmp_path / "zone.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def start(config: Path, account: str, env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    out = open(logs / f"{account}.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "bot", "run", "--config", str(config), "--account", account,
                             "--no-web"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


async def poll(db, query, until, timeout: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        async with db.unit_of_work() as s:
            value = await query(s)
        if until(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.3)


async def test_a_notice_survives_a_killed_process(pg_spec, tmp_path):
    config_path = zone_config(tmp_path)
    config = load_config(config_path)
    env = {**os.environ, "GRIDBOT_DATABASE_URL": PG_URL, "GRIDBOT_DATABASE_SCHEMA": pg_spec.schema,
           "PYTHONUNBUFFERED": "1"}
    db = pg_spec.database()
    procs = {name: start(config_path, name, env, tmp_path) for name in "abc"}
    try:
        reachable = sum(1 for room in config.tree.rooms() if room.node_code != "Z")

        async def served(s):  # type: ignore[no-untyped-def]
            return int(await s.scalar(select(func.count()).select_from(RoomRow).where(RoomRow.served_by.is_not(None))))

        assert await poll(db, served, lambda n: n == reachable, 120) == reachable, "groups not all served"
        assert {a.name for a in await poll(db, lambda s: _all(s, AccountRow), lambda rows: len(rows) == 3, 10)} \
            == {"a", "b", "c"}

        root = config.tree.node("Z")
        secretary = config.people[root.people_with("社区书记")[0]]
        async with db.unit_of_work() as s:
            desk = NoticeDesk(s, config, Directory(config.tree, config.people, config.roles), _now())
            replies = await desk.post(secretary, root, "本周六全区消防安全检查，请各户配合",
                                      reply_to=Address.contact(secretary.wechat_id or secretary.key),
                                      posted_in_origin=True)
            await OutboxRepository(s).enqueue(replies, now=_now())
        ref = await poll(db, lambda s: s.scalar(select(OutboxRow.ref).where(OutboxRow.kind == "notice").limit(1)),
                         lambda r: r is not None, 5)

        async def sent(s):  # type: ignore[no-untyped-def]
            return int(await s.scalar(select(func.count()).select_from(OutboxRow).where(
                OutboxRow.ref == ref, OutboxRow.kind == "notice", OutboxRow.status == "sent")))

        assert await poll(db, sent, lambda n: n >= reachable // 3, 60) >= reachable // 3
        procs["b"].send_signal(signal.SIGKILL)  # in the middle of sending
        procs["b"].wait(10)
        in_flight = await poll(db, lambda s: s.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.status == "sending", OutboxRow.account == "b")), lambda n: True, 1)
        await asyncio.sleep(1.0)
        procs["b"] = start(config_path, "b", env, tmp_path)
        assert await poll(db, sent, lambda n: n == reachable, 120) == reachable, "not every group got it"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        await db.dispose()

    log = [json.loads(line) for line in (tmp_path / "wechat.jsonl").read_text(encoding="utf-8").splitlines()]
    copies = Counter(entry["to"] for entry in log if "消防安全检查" in entry["text"] and entry["kind"] == "room")
    assert len(copies) == reachable  # every group
    repeated = {room: n for room, n in copies.items() if n > 1}
    # a copy is marked sent right after WeChat takes it; only one was between the two when b died
    assert sum(n - 1 for n in repeated.values()) <= 1, repeated
    assert in_flight <= 5  # b's claimed batch: the in-flight one and the ones it had not tried
    senders = Counter(entry["account"] for entry in log if "消防安全检查" in entry["text"])
    assert set(senders) == {"gridbot-a", "gridbot-b", "gridbot-c"}


async def _all(session, model):  # type: ignore[no-untyped-def]
    return list(await session.scalars(select(model)))


def _now():  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
