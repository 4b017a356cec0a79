"""A real `gridbot run` with the simulator, SIGKILLed during a burst of reports posted over HTTP, then restarted:
every message answered 202 is in the messages table, and each was handled exactly once."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
from sqlalchemy import select

from storage.models import MessageRow, TicketReporterRow

ROOT = Path(__file__).resolve().parents[2]
BURST = 600
KILL_AFTER = 150  # accepted messages before the SIGKILL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(config: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")
    return subprocess.Popen([sys.executable, "-m", "bot", "run", "--config", str(config), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


async def up(http: aiohttp.ClientSession, base: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, "gridbot run exited"
        try:
            async with http.get(f"{base}/api/sim/state") as resp:
                if resp.status == 200:
                    return await resp.json()
        except aiohttp.ClientError:
            pass
        assert time.monotonic() < deadline, "gridbot run did not come up"
        await asyncio.sleep(0.2)


async def test_a_sigkill_during_a_burst_loses_no_accepted_message(db_spec, tmp_path):
    config = tmp_path / "config.yaml"
    shutil.copy(ROOT / "config.yaml", config)
    env = {**os.environ, "GRIDBOT_DATABASE_URL": db_spec.url, "PYTHONUNBUFFERED": "1"}
    if db_spec.schema:
        env["GRIDBOT_DATABASE_SCHEMA"] = db_spec.schema
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(config, port, env, tmp_path / "run.log")
    accepted: list[str] = []  # the texts answered 202
    refused = 0
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            state = await up(http, base, proc)
            rooms = [room["id"] for node in state["tree"] for room in _rooms(node)]
            killed = asyncio.Event()
            todo = iter(range(BURST))

            async def client() -> None:
                nonlocal refused
                for i in todo:
                    text = f"{i % 30 + 1}号楼楼道灯坏了 #k{i}"
                    body = {"sender_id": f"sim:k{i} 住户", "sender_name": f"k{i} 住户", "text": text}
                    try:
                        async with http.post(f"{base}/api/sim/rooms/{rooms[i % len(rooms)]}/messages",
                                             json=body) as resp:
                            if resp.status == 202:
                                accepted.append(text)
                            else:
                                refused += 1
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        refused += 1
                    if len(accepted) >= KILL_AFTER and not killed.is_set():
                        killed.set()
                        proc.send_signal(signal.SIGKILL)  # mid-burst: other requests are in flight

            await asyncio.gather(*(client() for _ in range(16)))
            proc.wait(timeout=10)
            assert killed.is_set() and proc.returncode == -signal.SIGKILL
            assert refused > 0, "the kill came after the burst"

            proc = start(config, port, env, tmp_path / "run.log")
            await up(http, base, proc)  # the web comes up after the inbox has been handled
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    db = db_spec.database()
    try:
        async with db.unit_of_work() as s:
            rows = list(await s.scalars(select(MessageRow).where(MessageRow.direction == "in")))
            reporters = Counter(await s.scalars(select(TicketReporterRow.message_id)))
    finally:
        await db.dispose()
    stored = Counter(row.text for row in rows)
    lost = [text for text in accepted if stored[text] == 0]
    assert not lost, f"{len(lost)} of {len(accepted)} accepted messages lost"
    assert all(stored[text] == 1 for text in accepted)  # stored once
    by_text = {row.text: row for row in rows}
    assert [t for t in accepted if by_text[t].handler != "report"] == []  # every one handled (none left in the inbox)
    assert [t for t in accepted if reporters[by_text[t].id] != 1] == []  # … exactly once
    print(f"accepted {len(accepted)}, refused {refused}, stored {len(rows)}")


def _rooms(node: dict) -> list[dict]:
    return list(node["rooms"]) + [room for child in node["children"] for room in _rooms(child)]
