"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from bot.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from storage.session import Session

T = TypeVar("T")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", default="config.yaml", help="path of config.yaml (default: %(default)s)")


def load_or_report(path: str) -> Config | None:
    """Load a config, printing every error to stderr and returning None when it is broken."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"配置有误 / config has {len(exc.issues)} error(s):", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return None
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return config


def run_in_database(config: Config, work: Callable[["Session"], Awaitable[T]], *, what: str,
                    attempts: int | None = None) -> T:
    """One unit of work on the deployment's database (migrated first), for a command: open, run, close."""

    async def go() -> T:
        db = config.open_database()
        try:
            await db.upgrade()
            return await db.run(work, what=what, attempts=attempts)
        finally:
            await db.dispose()

    return asyncio.run(go())
