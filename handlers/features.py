"""The features the bot is made of, in one list: their handlers form the router, their jobs the schedule.

Adding a feature: write its module (handlers, desk calls, jobs) exporting a `Feature`, and add one line here.
Within a stage (bot.feature.Stage) handlers keep this list's order.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.feature import Feature, Stage
from handlers import care, commands, digest, duty, households, identity, notice, review, tickets
from handlers import polls, satisfaction
from handlers.router import Router

FEATURES: tuple[Feature, ...] = (
    identity.FEATURE,
    commands.FEATURE,
    notice.FEATURE,
    care.FEATURE,  # before tickets: a resident's photo answering 报平安 is not a ticket's photo
    tickets.FEATURE,
    review.FEATURE,
    digest.FEATURE,
    households.FEATURE,
    duty.FEATURE,
    polls.FEATURE,
    satisfaction.FEATURE,
)


def build_router(features: Sequence[Feature] = FEATURES) -> Router:
    """The root router: every feature's handlers, stage by stage, in the list's order (the first match wins)."""
    ordered = [handler for stage in sorted(Stage) for feature in features for handler in feature.handlers.get(stage, ())]
    return Router("root", ordered)
