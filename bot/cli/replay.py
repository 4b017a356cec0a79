"""`gridbot replay`: run the bot on the simulator with a virtual clock, fed from an events file."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli._common import add_config_argument, load_or_report

if TYPE_CHECKING:
    from bot.config import Config
    from bot.replay import Event


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay", help="replay a JSON Lines file of group messages on a virtual clock; print what the bot sent")
    add_config_argument(parser)
    parser.add_argument("events", help="JSON Lines file ('-' for stdin): {at, room, sender, text}")
    parser.add_argument("--database", help="database URL (default: a fresh temporary SQLite file)")
    parser.add_argument("--start", help="clock start (ISO time) when the first event has a relative time")
    parser.add_argument("--then", default="0m", help="let this much time pass after the last event (e.g. 2h)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 1
    from bot.domain.sla import parse_duration
    from bot.replay import ReplayError, first_time, parse_events

    text = sys.stdin.read() if args.events == "-" else Path(args.events).read_text(encoding="utf-8")
    lines = text.splitlines()
    tz = config.tz
    try:
        start = (datetime.fromisoformat(args.start) if args.start else first_time(lines, tz)) or datetime.now(tz)
        start = start if start.tzinfo else start.replace(tzinfo=tz)
        events = list(parse_events(lines, tz=tz, start=start))
        then = parse_duration(args.then) if args.then not in ("0", "0m") else None
    except (ReplayError, ValueError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_replay(config, events, start, then, args.database))


async def _replay(config: Config, events: list[Event], start: datetime, then: timedelta | None,
                  database_url: str | None) -> int:
    from bot.replay import Replay, ReplayError
    from storage.session import Database

    with tempfile.TemporaryDirectory(prefix="gridbot-replay-") as tmp:
        db = Database(database_url or f"sqlite+aiosqlite:///{tmp}/replay.db")
        code = 0
        async with Replay(config, db, start) as replay:
            for event in events:
                try:
                    await replay.feed(event)
                except ReplayError as exc:
                    print(f"replay: {exc}", file=sys.stderr)
                    code = 2
            last = events[-1].at if events else start
            await replay.finish(last + then if then else None)
            for line in replay.sent():
                print(json.dumps(line, ensure_ascii=False))
            print(json.dumps({"summary": await replay.summary()}, ensure_ascii=False))
    return code
