"""`gridbot db upgrade`: apply database migrations."""

from __future__ import annotations

import argparse
import asyncio
import logging

from bot.cli._common import add_config_argument, load_or_report

_LOGGER = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="database maintenance")
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = sub.add_parser("upgrade", help="apply migrations up to the newest schema")
    add_config_argument(upgrade)
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 1

    async def go() -> None:
        db = config.open_database()
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    try:
        asyncio.run(go())
    except Exception as exc:  # a clear line, not a traceback, for the IT person
        print(f"数据库升级失败 / database upgrade failed: {exc}")
        return 1
    print(f"database is up to date: {_safe(config.database_url())}")
    return 0


def _safe(url: str) -> str:
    """The URL without a password, for printing."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url
