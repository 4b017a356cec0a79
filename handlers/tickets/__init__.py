"""Tickets in chat: residents' reports, photos, questions and confirmations; leaders' commands; the ticket jobs.

The handlers live in this package's modules by what they answer; this module lists them in `FEATURE`.
"""

from __future__ import annotations

from datetime import datetime

from bot.feature import Feature, Job, Stage, in_work, looking
from bot.work import Work
from handlers.tickets.commands import COMMANDS, TicketCommandHandler, parse_ticket_command, view_ticket
from handlers.tickets.follow_up import AnswerAcceptHandler, ConfirmationHandler, ImageHandler, WithdrawHandler
from handlers.tickets.private import PrivateAskPlaceHandler, PrivatePlaceHandler, PrivateReportHandler
from handlers.tickets.reports import ReportHandler, TicketQueryHandler


async def _check_deadlines(work: Work) -> int:
    """Escalate tickets whose deadline passed (from stored state: a restart misses none, repeats none)."""
    return work.say(await work.tickets.check_deadlines())


async def _auto_close(work: Work) -> int:
    return work.say(await work.tickets.auto_close())


async def _next_deadline(work: Work) -> datetime | None:
    return await work.tickets.next_deadline_check()


async def _next_auto_close(work: Work) -> datetime | None:
    return await work.tickets.next_auto_close()


FEATURE = Feature(
    "tickets",
    handlers={
        Stage.COMMAND: [TicketCommandHandler()],
        Stage.FOLLOW_UP: [ImageHandler(), ConfirmationHandler(), WithdrawHandler(), AnswerAcceptHandler()],
        Stage.QUERY: [TicketQueryHandler()],
        Stage.PRIVATE: [PrivatePlaceHandler(), PrivateReportHandler(), PrivateAskPlaceHandler()],
        Stage.REPORT: [ReportHandler()],
    },
    jobs=[Job("ticket_deadlines", in_work(_check_deadlines, "deadline check"),
              hint=looking(_next_deadline, "next deadline")),
          Job("ticket_auto_close", in_work(_auto_close, "auto close"), every=600,
              hint=looking(_next_auto_close, "next auto close"))],
)

__all__ = ["COMMANDS", "FEATURE", "AnswerAcceptHandler", "ConfirmationHandler", "ImageHandler", "PrivateAskPlaceHandler",
           "PrivatePlaceHandler", "PrivateReportHandler", "ReportHandler", "TicketCommandHandler", "TicketQueryHandler",
           "WithdrawHandler", "parse_ticket_command", "view_ticket"]
