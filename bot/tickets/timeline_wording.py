"""A ticket's timeline in Chinese, as the console shows it: who (a resident, a handler, the bot) did what.

The timeline stores the actor's display name and the action's English key (ticket_events.actor / .action);
this file is where a reviewer reads the Chinese a secretary sees for each of them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.tickets.wording import SYSTEM

BOT_NAME = "微格助手"  # the bot, where the timeline stored wording.SYSTEM
ACTOR_KINDS = {"resident": "居民", "handler": "负责人", "bot": ""}  # said before the name ("居民 王芳")

TIMELINE_ACTIONS = {
    "open": "反映问题，立为工单",
    "merge": "合并",
    "merge_into": "并入另一张工单",
    "split": "拆分出新工单",
    "attach": "发来照片",
    "accept": "受理",
    "resolve": "办结",
    "confirm": "确认已解决",
    "reopen": "重新打开",
    "close": "关闭",
    "cancel": "撤销",
    "escalate": "上报",
    "reassign": "转派",
    "reroute": "跳过负责人",
    "poll": "微议事结果",
}
# the same action reads differently from a resident (a second reporter joins) and from a handler (#合并)
_BY_KIND = {("merge", "resident"): "也反映了这个问题", ("confirm", "bot"): "无人回复，自动关闭"}
_RESIDENT_ACTIONS = frozenset({"open", "attach"})  # only a reporter does these, whatever their nickname
# a reporter's own words do these ("好了谢谢", "还是不亮", "看错了", a second report): a reporter named like a
# handler is still the resident here
_REPORTER_ACTIONS = frozenset({"confirm", "reopen", "cancel", "close", "merge"})
_HIDDEN_NOTES = frozenset({"attach"})  # the note is the file's server path: the page shows the photo instead


@dataclass(frozen=True, slots=True)
class TimelineStep:
    """One timeline line as shown: the kind of actor, who, what, and the note (if worth showing)."""

    kind: str  # resident | handler | bot
    who: str
    what: str
    note: str

    @property
    def actor(self) -> str:
        """'居民 王芳', '负责人 陈丽', '微格助手'."""
        label = ACTOR_KINDS[self.kind]
        return f"{label} {self.who}" if label else self.who


def actor_kind(actor: str, action: str, handler_names: Collection[str], reporter_names: Collection[str] = ()
               ) -> str:
    """Who a stored actor name is: the bot (wording.SYSTEM), a handler of config.yaml, or a resident."""
    if actor == SYSTEM:
        return "bot"
    if action in _RESIDENT_ACTIONS or actor not in handler_names:
        return "resident"
    if action in _REPORTER_ACTIONS and actor in reporter_names:
        return "resident"
    return "handler"


def timeline_step(actor: str, action: str, note: str | None, handler_names: Collection[str],
                  reporter_names: Collection[str] = ()) -> TimelineStep:
    """A stored timeline event in Chinese; an action this file does not know is shown as it is stored."""
    kind = actor_kind(actor, action, handler_names, reporter_names)
    what = _BY_KIND.get((action, kind)) or TIMELINE_ACTIONS.get(action, action)
    return TimelineStep(kind=kind, who=BOT_NAME if kind == "bot" else actor, what=what,
                        note="" if action in _HIDDEN_NOTES else (note or ""))
