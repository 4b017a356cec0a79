"""The aiohttp app keys and file locations every web module shares; importing it pulls in no other web module."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.app import GridBot
from bot.web.auth import LoginLimiter

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"
BOT_KEY = web.AppKey("bot", GridBot)
LIMITER = web.AppKey("login_limiter", LoginLimiter)


def bot_of(request: web.Request) -> GridBot:
    """The bot this web app serves."""
    return request.app[BOT_KEY]
