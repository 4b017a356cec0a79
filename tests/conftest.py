"""Shared fixtures: a clean database per test on SQLite and on PostgreSQL, clocks, configs, bots.

The schema is built once per run by the real migrations: a template SQLite file that each test
copies, and a PostgreSQL schema of this run's own (so parallel runs never collide) that is
truncated after each test. Every test that takes `db` runs on both backends; PostgreSQL being
unreachable is a failure, never a skip.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot.clock import VirtualClock
from bot.config import Config, load_config
from bot.config.schema import CareConfig
from storage.models import Base
from storage.session import Database

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = ROOT / "config.yaml"
PG_URL = os.environ.get("GRIDBOT_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
TZ = ZoneInfo("Asia/Shanghai")
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.upgrade()
        await db.dispose()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    schema = f"gridbot_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def setup() -> None:
        admin = Database(PG_URL)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        db = Database(PG_URL, schema=schema)
        await db.upgrade()
        await db.dispose()

    async def teardown() -> None:
        admin = Database(PG_URL)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()

    try:
        asyncio.run(setup())
    except Exception as exc:  # pragma: no cover - the environment is broken
        pytest.fail(f"PostgreSQL at {PG_URL} is not usable ({exc}); start it, e.g. "
                    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
    yield schema
    asyncio.run(teardown())


class DbSpec:
    """How to reach the test database of one backend (for fixtures and subprocesses)."""

    def __init__(self, backend: str, url: str, schema: str | None) -> None:
        self.backend, self.url, self.schema = backend, url, schema

    def database(self) -> Database:
        return Database(self.url, schema=self.schema)


@pytest.fixture(params=BACKENDS)
def db_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DbSpec]:
    if request.param == "sqlite":
        path = tmp_path / "gridbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield DbSpec("sqlite", f"sqlite+aiosqlite:///{path}", None)
        return
    yield from _postgres(request.getfixturevalue("pg_schema"))


@pytest.fixture
def pg_spec(pg_schema: str) -> Iterator[DbSpec]:
    """PostgreSQL only: for what only a server does (several processes, advisory locks, LISTEN/NOTIFY)."""
    yield from _postgres(pg_schema)


def _postgres(schema: str) -> Iterator[DbSpec]:
    """The run's PostgreSQL schema, emptied after the test."""
    yield DbSpec("postgresql", PG_URL, schema)

    async def truncate() -> None:
        db = Database(PG_URL, schema=schema)
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with db.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await db.dispose()

    asyncio.run(truncate())


@pytest.fixture
async def db(db_spec: DbSpec) -> AsyncIterator[Database]:
    database = db_spec.database()
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(datetime(2026, 11, 23, 9, 0, tzinfo=TZ))


@pytest.fixture(scope="session")
def care_config() -> Config:
    """The sample config as shipped, with its care ledger (吴奶奶's daily 报平安 at 09:00)."""
    return load_config(SAMPLE_CONFIG, cache=False)


@pytest.fixture(scope="session")
def sample_config(care_config: Config) -> Config:
    """The sample config without its care ledger: other features' scenarios run for hours or days, and an
    unanswered 报平安 every morning would open urgent tickets in the middle of them (tests/care uses care_config)."""
    return dataclasses.replace(care_config, care=CareConfig())


@pytest.fixture
async def sim_bot(sample_config, db, clock):
    """The bot on the sample config, the simulator and a virtual clock: (bot, simulator)."""
    from bot.app import GridBot
    from bot.transport.simulator import SimulatorTransport

    transport = SimulatorTransport.from_config(sample_config, clock)
    bot = GridBot(sample_config, transport, clock=clock, database=db, scheduler=False)
    await bot.start()
    yield bot, transport
    await bot.stop()
