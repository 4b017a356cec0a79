"""Digest charts, served by their unguessable file names (the link in a digest message)."""

from __future__ import annotations

import re

from aiohttp import web

from bot.digests import chart_path
from bot.web.keys import bot_of

_NAME = re.compile(r"^[A-Za-z0-9_-]{8,64}\.png$")


def setup(app: web.Application) -> None:
    async def chart(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if not _NAME.match(name):
            raise web.HTTPNotFound(text="没有这张图表")
        path = chart_path(bot_of(request).config).parent / name
        if not path.is_file():
            raise web.HTTPNotFound(text="没有这张图表")
        return web.FileResponse(path, headers={"Cache-Control": "private, max-age=86400"})

    app.router.add_get("/charts/{name}", chart)
