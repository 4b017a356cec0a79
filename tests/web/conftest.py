"""A bot on the simulator with its web app, and accounts to sign in with."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import GridBot
from bot.transport.simulator import SimulatorTransport
from bot.web.accounts import hash_password, new_token
from bot.web.app import build_web_app
from storage.web_repository import WebRepository

PASSWORD = "correct horse 9"
ACCOUNTS = {  # username: (role, person, node)
    "shuji": ("secretary", "li_hongmei", None),
    "chenli": ("leader", "chen_li", None),  # 第一网格 JQS-01
    "kan": ("viewer", None, "JQS-02"),
}


class Web:
    def __init__(self, bot, sim, clock, client, tokens):
        self.bot, self.sim, self.clock, self.client, self.tokens = bot, sim, clock, client, tokens

    async def say(self, topic: str, sender: str, text: str):
        room = self.sim.room_by_topic(topic)
        await self.sim.post(room.id, sender, text)
        await self.bot.settle(self.clock)
        return room

    async def login(self, username: str, password: str = PASSWORD):
        self.client.session.cookie_jar.clear()
        return await self.client.post("/login", data={"username": username, "password": password},
                                      allow_redirects=False)

    def bearer(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


@pytest.fixture
async def web(sample_config, db, clock):
    sim = SimulatorTransport.from_config(sample_config, clock)
    bot = GridBot(sample_config, sim, clock=clock, database=db, scheduler=False)
    await bot.start()
    tokens = {}

    async def add(session):  # type: ignore[no-untyped-def]
        for name, (role, person, node) in ACCOUNTS.items():
            token, hashed = new_token()
            tokens[name] = token
            await WebRepository(session).add_user(username=name, password_hash=hash_password(PASSWORD), role=role,
                                                  person_key=person, node_code=node, token_hash=hashed,
                                                  disabled=False, created_at=datetime.now(timezone.utc))

    await db.run(add)
    client = TestClient(TestServer(build_web_app(bot)))
    await client.start_server()
    yield Web(bot, sim, clock, client, tokens)
    await client.close()
    await bot.stop()
