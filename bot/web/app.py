"""aiohttp app factory: typed keys for what handlers need, start-up and shut-down in one place."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from bot.app import GridBot

_LOGGER = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
BOT_KEY = web.AppKey("bot", GridBot)


async def healthz(request: web.Request) -> web.Response:
    bot = request.app[BOT_KEY]
    return web.json_response({"ok": bot.started, "transport": bot.transport.name})


def build_web_app(bot: GridBot) -> web.Application:
    """The web app for one bot: health, and the simulator chat when the transport is the simulator."""
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[BOT_KEY] = bot
    app.router.add_get("/healthz", healthz)
    from bot.transport.simulator import SimulatorTransport

    if isinstance(bot.transport, SimulatorTransport):
        from bot.web import simulator

        simulator.setup(app)
    return app


async def start_web(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve `app` on host:port; returns the runner to clean up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    _LOGGER.info("web UI on http://%s:%d/", host, port)
    return runner
