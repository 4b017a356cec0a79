"""`gridbot households import FILE --node CODE [--dry-run]` and `gridbot households list --node CODE`.

The import reads the community's spreadsheet (bot/households_import.py) and replaces that node's registered
households in one transaction; a dry run prints every row left out and what would be stored, and stores
nothing. The list shows each household of the subtree and how it is reached (in which group, through a proxy,
or 无人在群). Exit codes: 0 done, 1 the config, the file or the database failed, 2 a wrong argument.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli._common import add_config_argument, load_or_report, run_in_database

if TYPE_CHECKING:
    from storage.session import Session


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("households", help="the household registry (住户名单): import, list")
    commands = parser.add_subparsers(dest="households_command", metavar="import|list")
    imp = commands.add_parser("import", help="import a node's households from an .xlsx or .csv file")
    add_config_argument(imp)
    imp.add_argument("file", help="the spreadsheet (.xlsx, or .csv in UTF-8 or GBK)")
    imp.add_argument("--node", required=True, help="the node code the households belong to (see config.yaml)")
    imp.add_argument("--dry-run", action="store_true", help="print what would be stored and every row left out")
    imp.set_defaults(handler=run_import)
    listing = commands.add_parser("list", help="the households of a subtree and how each is reached")
    add_config_argument(listing)
    listing.add_argument("--node", required=True, help="the node code whose subtree to list")
    listing.set_defaults(handler=run_list)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def run_import(args: argparse.Namespace) -> int:
    from bot.domain import households_wording as wording
    from bot.domain.people import Directory
    from bot.households import HouseholdDesk, people_count
    from bot.households_import import HouseholdImportError, read_households
    from storage.errors import StorageError, is_database_error

    config = load_or_report(args.config)
    if config is None:
        return 1
    if args.node not in config.tree:
        print(f"节点编码 {args.node} 不在 {args.config} 里：请用 nodes: 下的 code（如 JQS-01-01）", file=sys.stderr)
        return 2
    node = config.tree.node(args.node)
    try:
        result = read_households(args.file, args.node)
    except (HouseholdImportError, OSError) as error:
        print(f"无法导入 {args.file}：{error}", file=sys.stderr)
        return 1
    for line in result.lines():
        print(f"未导入：{line}")
    today = _now().astimezone(config.tz).date()
    directory = Directory(config.tree, config.people, config.roles)

    async def work(session: Session) -> tuple[int, int, int]:
        desk = HouseholdDesk(session, config, directory, _now())
        if args.dry_run:
            return len(await desk.repo.load([args.node])), len(result.households), people_count(result.households)
        replaced = await desk.store(args.node, result.households, source=Path(args.file).name)
        return replaced.removed, replaced.stored, replaced.people

    if args.dry_run:
        for household in result.households:
            print(f"将登记：{wording.household_line(household, today)}")
    try:
        removed, stored, people = run_in_database(config, work, what="importing households", attempts=3)
    except Exception as error:  # the database: say so, not a traceback
        if not (isinstance(error, StorageError) or is_database_error(error)):
            raise
        print(f"数据库出错，未导入：{error}", file=sys.stderr)
        return 1
    print(wording.import_summary(node.name, node.code, removed, stored, people, len(result.problems),
                                 dry_run=args.dry_run))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from bot.domain import households_wording as wording
    from bot.domain.people import Directory
    from bot.households import HouseholdDesk

    config = load_or_report(args.config)
    if config is None:
        return 1
    if args.node not in config.tree:
        print(f"节点编码 {args.node} 不在 {args.config} 里：请用 nodes: 下的 code（如 JQS-01-01）", file=sys.stderr)
        return 2
    directory = Directory(config.tree, config.people, config.roles)
    now = _now()
    today = now.astimezone(config.tz).date()

    rows = run_in_database(config, lambda s: HouseholdDesk(s, config, directory, now).reach(args.node),
                           what="listing households", attempts=3)
    node = config.tree.node(args.node)
    if not rows:
        print(f"{node.name}（{node.code}）还没有导入住户名单：gridbot households import 住户表.xlsx --node {node.code}")
        return 0
    for household, how in rows:
        print(wording.reach_line(household, today, how))
    missing = sum(1 for _, how in rows if not how)
    print(f"{node.name}（{node.code}）共登记 {len(rows)} 户，其中 {missing} 户无人在群。")
    return 0
