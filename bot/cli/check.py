"""`gridbot check`: validate a config; exit 1 with the errors."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime

from bot.cli._common import add_config_argument, load_or_report
from bot.config import Config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("check", help="validate config.yaml and report every error")
    add_config_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 1
    tree = config.tree
    rooms = sum(1 for _ in tree.rooms())
    by_tier = {tier: 0 for tier in tree.tiers}
    for node in tree:
        by_tier[node.tier] += 1
    coverage = config.calendar.coverage_notice(today(config), args.config)
    if coverage:
        print(f"warning: {coverage}", file=sys.stderr)
    print(f"OK: {args.config} — {config.name}")
    print("  " + "，".join(f"{tier} {count}" for tier, count in by_tier.items() if count) + f"；群 {rooms} 个；人员 {len(config.people)} 人")
    return 0


def today(config: Config) -> date:
    """The deployment's date today."""
    return datetime.now(config.tz).date()

