"""Digest charts are served by their unguessable names, and nothing else is."""

from __future__ import annotations

import dataclasses

from aiohttp.test_utils import TestClient, TestServer

from bot.app import GridBot
from bot.config import DigestConfig
from bot.digests import chart_path
from bot.transport.simulator import SimulatorTransport
from bot.web.app import build_web_app
from tests.fakes import WORKDAY_MORNING, ShiftedClock


async def test_a_chart_is_served_by_name_only(sample_config, db, tmp_path):
    config = dataclasses.replace(sample_config, digests=DigestConfig(charts_dir=str(tmp_path / "charts")))
    clock = ShiftedClock(WORKDAY_MORNING)  # not the hour the test runs at
    bot = GridBot(config, SimulatorTransport.from_config(config, clock), clock=clock, database=db, scheduler=False)
    path = chart_path(config)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\nchart")
    (tmp_path / "secret.png").write_bytes(b"not a chart")
    await bot.start()
    client = TestClient(TestServer(build_web_app(bot)))
    await client.start_server()
    try:
        answer = await client.get(f"/charts/{path.name}")
        assert answer.status == 200 and answer.content_type == "image/png"
        assert await answer.read() == b"\x89PNG\r\n\x1a\nchart"
        for wrong in ("/charts/..%2Fsecret.png", "/charts/secret.png", "/charts/x.png", "/charts/abcdefgh12.txt"):
            assert (await client.get(wrong)).status == 404, wrong
    finally:
        await client.close()
        await bot.stop()
