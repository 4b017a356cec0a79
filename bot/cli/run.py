"""`gridbot run`: start the bot with its transport and web UI until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal

from bot.cli._common import add_config_argument, load_or_report
from bot.clock import Clock
from bot.config import Config
from bot.transport.base import Transport

_LOGGER = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="start the bot (transport + web UI)")
    add_config_argument(parser)
    parser.add_argument("--host", help="web UI address (default from config, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="web UI port (default from config, 8080)")
    parser.add_argument("--no-web", action="store_true", help="do not start the web UI")
    parser.add_argument("--account", help="serve this account of transport.accounts (one process per account, "
                                          "all on one PostgreSQL database)")
    parser.set_defaults(handler=run)


def build_transport(config: Config, clock: Clock, account: str | None = None) -> Transport:
    """The transport config.yaml asks for (for one account of several, with that account's settings)."""
    if config.transport.kind == "simulator":
        from bot.transport.simulator import SimulatorTransport

        return SimulatorTransport.from_config(config, clock, account=account)
    from bot.transport.wechaty import WechatyTransport  # type: ignore[import-not-found]

    settings = config.transport.account(account) if account else None
    endpoint = (settings.endpoint if settings else None) or config.transport.endpoint
    token_env = (settings.token_env if settings else None) or config.transport.token_env
    return WechatyTransport.from_env(endpoint, os.environ.get(token_env))


async def serve(config: Config, *, host: str, port: int, web_enabled: bool, account: str | None = None) -> int:
    from bot.app import GridBot
    from bot.clock import SystemClock
    from bot.transport.base import TransportError
    from bot.web.app import build_web_app, start_web

    clock = SystemClock()
    try:
        transport = build_transport(config, clock, account)
    except (ValueError, ImportError) as exc:
        print(f"无法连接微信 / cannot set up the transport: {exc}")
        return 1
    bot = GridBot(config, transport, clock=clock, account=account)
    try:
        await bot.start()
    except TransportError as exc:
        print(f"无法连接微信 / transport error: {exc}")
        await bot.stop()
        return 1
    runner = None
    if web_enabled:
        try:
            runner = await start_web(build_web_app(bot), host, port)
        except OSError as exc:
            print(f"网页端口 {host}:{port} 无法使用 / cannot listen on {host}:{port}: {exc}\n"
                  f"  fix: free the port or set web.port in {config.path} (or pass --port)")
            await bot.stop()
            return 1
        print(f"微格助手已启动。打开 http://{host}:{port}/ 使用群聊模拟器，http://{host}:{port}/console 是管理后台。"
              "按 Ctrl-C 停止。", flush=True)
        from storage.web_repository import WebRepository

        if not await bot.db.run(lambda s: WebRepository(s).users(), what="accounts"):
            print(f"管理后台还没有账号 / no console account yet: .venv/bin/gridbot user add admin --config {config.path} "
                  "--role secretary --person <config.yaml 里书记的键名>", flush=True)
    from bot.app import settle_heap

    settle_heap()  # started: what start-up built is kept for good
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # pragma: no cover - Windows
            pass
    await stop.wait()
    _LOGGER.info("stopping")
    if runner is not None:
        await runner.cleanup()
    await bot.stop()
    return 0


def run(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 1
    host = args.host or config.web.host
    port = args.port if args.port is not None else config.web.port
    accounts = [a.name for a in config.transport.accounts]
    if args.account and args.account not in accounts:
        print(f"{config.path}: no account {args.account!r} under transport.accounts "
              f"(listed: {', '.join(accounts) or 'none'})\n  fix: add it there, or run without --account")
        return 1
    if accounts and not args.account:
        print(f"{config.path} lists several accounts ({', '.join(accounts)}): start one process per account with "
              f"--account NAME")
        return 1
    if args.account and config.database_url().startswith("sqlite"):
        print("several accounts share one PostgreSQL database; SQLite is for one process. Set GRIDBOT_DATABASE_URL "
              "to postgresql+asyncpg://user@host/db (see README, \"how to run a zone\")")
        return 1
    return asyncio.run(serve(config, host=host, port=port, web_enabled=config.web.enabled and not args.no_web,
                             account=args.account))
