"""aiohttp app factory: typed keys for what handlers need, start-up and shut-down in one place."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.app import GridBot
from bot.transport.simulator import SimulatorTransport
from bot.web import (api, care_pages, charts, console, exports, household_pages, login, metrics, notice_pages, open311,
                     pages, review_pages, simulator)
from bot.web.keys import BOT_KEY, STATIC_DIR
from storage.repositories import GridRepository

__all__ = ["BOT_KEY", "build_web_app", "start_web"]

_LOGGER = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    bot = request.app[BOT_KEY]
    return web.json_response({"ok": bot.started, "transport": bot.transport.name})


async def unknown_rooms(request: web.Request) -> web.Response:
    """Groups the account is in that config.yaml does not know, for the IT person to add to a node."""
    bot = request.app[BOT_KEY]
    rows = await bot.db.run(lambda s: GridRepository(s).unknown_rooms(), what="unknown rooms")
    tz = bot.config.tz  # times in the deployment's zone, with their offset, like every other answer
    items = [{"id": r.transport_id or r.room_key, "topic": r.topic,
              "first_seen": r.first_seen.astimezone(tz).isoformat() if r.first_seen else None,
              "last_seen": r.last_seen.astimezone(tz).isoformat() if r.last_seen else None} for r in rows]
    if "json" in request.headers.get("Accept", "") or request.path.startswith("/api/"):
        return web.json_response({"unknown_rooms": items})
    return pages.render(request, "unknown_rooms.html", "未配置的群", rows=rows,
                        heading="机器人所在、但 config.yaml 里没有的群")


def build_web_app(bot: GridBot) -> web.Application:
    """The web app for one bot: health, and the simulator chat when the transport is the simulator."""
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[BOT_KEY] = bot
    pages.setup_templates(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/rooms/unknown", unknown_rooms)
    app.router.add_get("/api/rooms/unknown", unknown_rooms)
    app.router.add_static("/static/", STATIC_DIR)
    charts.setup(app)
    metrics.setup(app)
    login.setup(app)
    console.setup(app)
    notice_pages.setup(app)
    exports.setup(app)
    review_pages.setup(app)
    household_pages.setup(app)
    care_pages.setup(app)
    api.setup(app)
    open311.setup(app)
    if isinstance(bot.transport, SimulatorTransport):
        simulator.setup(app)
    else:
        app.router.add_get("/", _to_console)
    return app


async def _to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console")


async def start_web(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve `app` on host:port; returns the runner to clean up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    _LOGGER.info("web UI on http://%s:%d/", host, port)
    return runner
