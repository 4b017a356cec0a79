"""Per-process health and Prometheus metrics: /readyz (can it work now?) and /metrics (text format 0.0.4)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from bot.web.keys import bot_of
from storage.cluster_repository import ClusterRepository
from storage.ticket_repository import TicketRepository

if TYPE_CHECKING:
    from storage.session import Session


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _line(name: str, value: float, **labels: str) -> str:
    label = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return f"{name}{{{label}}} {value:g}" if label else f"{name} {value:g}"


def setup(app: web.Application) -> None:
    async def readyz(request: web.Request) -> web.Response:
        bot = bot_of(request)
        problems = []
        if not bot.started:
            problems.append("bot not started")
        connected = bool(getattr(bot.transport, "connected", True))
        if not connected:  # messages wait in the outbox until WeChat is back
            problems.append("transport disconnected")
        try:
            async with asyncio.timeout(2):
                await bot.db.ping()
        except Exception as exc:
            problems.append(f"database: {type(exc).__name__}")
        body = {"ready": not problems, "problems": problems, "account": bot.account, "connected": connected,
                "leader": bot.cluster.is_leader if bot.cluster is not None else True}
        return web.json_response(body, status=200 if not problems else 503)

    async def metrics(request: web.Request) -> web.Response:
        bot = bot_of(request)
        account = bot.account or "default"

        async def gather(session: Session) -> tuple[dict[str, int], dict[str, int]]:
            depth = await ClusterRepository(session).depth()
            states = await TicketRepository(session).counts_by_state()
            return depth, states

        depth, states = await bot.db.run(gather, what="metrics", attempts=2)
        now = bot.clock.now().timestamp()
        limiter = bot.sender.limiter
        lines = [
            "# HELP gridbot_messages_in_total Messages received by this process.",
            "# TYPE gridbot_messages_in_total counter",
            _line("gridbot_messages_in_total", bot.stats.received, account=account),
            "# TYPE gridbot_messages_out_total counter",
            _line("gridbot_messages_out_total", bot.sender.sent_count, account=account),
            "# TYPE gridbot_send_failures_total counter",
            _line("gridbot_send_failures_total", bot.sender.failed_count, account=account),
            "# TYPE gridbot_errors_total counter",
            _line("gridbot_errors_total", bot.stats.errors + sum(bot.jobs.failures.values()), account=account),
            "# HELP gridbot_outbox_depth Messages waiting to be sent, by the account that will send them.",
            "# TYPE gridbot_outbox_depth gauge",
            *(_line("gridbot_outbox_depth", n, account=name or "unassigned") for name, n in sorted(depth.items())),
            "# HELP gridbot_send_budget_used Share of this account's per-minute budget used in the last 60 s.",
            "# TYPE gridbot_send_budget_used gauge",
            _line("gridbot_send_budget_used", limiter.used(now) / limiter.per_minute, account=account),
            "# TYPE gridbot_send_budget_per_minute gauge",
            _line("gridbot_send_budget_per_minute", limiter.per_minute, account=account),
            "# TYPE gridbot_tickets gauge",
            *(_line("gridbot_tickets", n, state=state) for state, n in sorted(states.items())),
            "# TYPE gridbot_job_runs_total counter",
            *(_line("gridbot_job_runs_total", n, job=job) for job, n in sorted(bot.jobs.runs.items())),
            "# TYPE gridbot_job_failures_total counter",
            *(_line("gridbot_job_failures_total", n, job=job) for job, n in sorted(bot.jobs.failures.items())),
            "# HELP gridbot_transport_connected 1 while the link to WeChat is up.",
            "# TYPE gridbot_transport_connected gauge",
            _line("gridbot_transport_connected", 1 if getattr(bot.transport, "connected", True) else 0,
                  account=account),
            "# TYPE gridbot_leader gauge",
            _line("gridbot_leader", 1 if (bot.cluster is None or bot.cluster.is_leader) else 0, account=account),
        ]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain",
                            headers={"X-Content-Type-Options": "nosniff"}, charset="utf-8")

    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
