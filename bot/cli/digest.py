"""`gridbot digest`: print the digest of a node for a day or a week (and optionally draw its chart)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, datetime
from pathlib import Path

from bot.cli._common import add_config_argument, load_or_report


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("digest", help="print a digest (日报/周报) for a node and period")
    add_config_argument(parser)
    parser.add_argument("--node", help="node code (default: the top of the tree)")
    parser.add_argument("--period", choices=("day", "week"), default="day", help="day or week (default: day)")
    parser.add_argument("--at", help="a date in the period, e.g. 2026-11-22 (default: today); a week runs "
                                     "Monday to Sunday")
    parser.add_argument("--png", help="also draw the chart to this PNG file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.digests import digest_text
    from bot.domain.digest import calendar_period

    config = load_or_report(args.config)
    if config is None:
        return 1
    node = args.node or config.tree.roots[0]
    if node not in config.tree:
        print(f"unknown node code {node!r}; codes are listed under nodes: in {args.config}", file=sys.stderr)
        return 2
    now = datetime.now(config.tz)
    try:
        day = date.fromisoformat(args.at) if args.at else now.date()
    except ValueError:
        print(f"--at must be a date like 2026-11-22, not {args.at!r}", file=sys.stderr)
        return 2
    period = calendar_period(args.period, day, config.tz)

    async def go() -> str:
        db = config.open_database()
        try:
            await db.upgrade()
            text, _ = await digest_text(db, config, node, period, now, chart=Path(args.png) if args.png else None)
            return text
        finally:
            await db.dispose()

    try:
        text = asyncio.run(go())
    except Exception as exc:  # one clear line for the IT person (a missing font says how to install one)
        print(f"digest failed: {exc}", file=sys.stderr)
        return 1
    print(text)
    return 0
