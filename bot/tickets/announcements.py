"""What each ticket step announces, and to whom: the reporters' group, the holder where they are, the tier above.

The lines come from wording; the addresses from the audience. Nothing here changes a ticket.
"""

from __future__ import annotations

from typing import Any

from bot.domain.people import Holder
from bot.domain.reach import safety_advice
from bot.domain.tickets import CATEGORY_NAMES, Action
from bot.messages import Address, Reply
from bot.tickets import wording
from bot.tickets.audience import Audience, Reporter, priority_of
from storage.models import TicketRow


class Announcements:
    """The replies of each step, for one unit of work."""

    def __init__(self, audience: Audience) -> None:
        self.audience = audience
        self.settings = audience.settings
        self.tree = audience.tree

    async def opened(self, ticket: TicketRow, reporter: Reporter, holder: Holder | None,
                     parse: Any = None) -> list[Reply]:
        """A new ticket: the reporter's receipt, its holder where they are, and the tier above if urgent."""
        audience = self.audience
        what = wording.kind_of(ticket)
        limits = self.settings.sla.limits_for(ticket.urgency, ticket.category)
        priority = priority_of(ticket)
        urgent = ticket.urgency == "urgent"
        advice = None
        if urgent:
            advice = safety_advice(self.settings.safety_advice, category=ticket.category,
                                   category_name=CATEGORY_NAMES.get(ticket.category),
                                   explanation=tuple(getattr(parse, "explanation", ()) or ()), text=ticket.text)
        mentions: list[str] = []
        extra: list[Reply] = []
        here = False
        if holder is not None:
            at = await audience.reach(holder.person, first=ticket.room_key if ticket.room_id else None,
                                      near=(holder.node.code, ticket.node_code))
            here = at is not None and ticket.room_id is not None and at == Address.room(ticket.room_key or "")
            if here:
                mentions.append(audience.person_id(holder.person))
            elif at is not None:
                line = wording.wording_assigned(ticket, self.tree, what, limits.accept)
                extra.append(audience.tell(at, holder.person, line, priority=priority, kind="ticket_assign",
                                           ref=f"ticket:{ticket.id}"))
        upper = audience.upper_room(ticket)
        alerts: list[Reply] = []
        told = None
        if urgent and upper is not None:
            # urgent: the tier above hears at once, whatever the hour
            upper_node, address = upper
            # whoever is on duty (值班) up there at this moment, else that tier's usual handler
            duty = await audience.on_duty(upper_node.code, ticket.created_at,
                                          skip=(holder.person.key,) if holder else (), near=(ticket.node_code,))
            boss = duty[0] if duty is not None else audience.directory.responsible(upper_node.code)
            line = wording.urgent_alert(ticket, reporter.node.name, holder)
            boss_mentions: tuple[str, ...] = ()
            told = upper_node.name
            if boss is not None and (holder is None or boss.person.key != holder.person.key):
                told = wording.holder_label(boss)
                boss_at = await audience.reach(boss.person, first=address.id, near=(boss.node.code, upper_node.code))
                if boss_at == address:
                    line += wording.please_look(boss.person.name)
                    boss_mentions = (audience.person_id(boss.person),)
                elif boss_at is not None:
                    alerts.append(audience.tell(boss_at, boss.person, line + wording.PLEASE_LOOK, priority=0,
                                                kind="ticket_urgent", ref=f"ticket:{ticket.id}"))
            alerts.insert(0, Reply(address, line, boss_mentions, priority=0, kind="ticket_urgent",
                                   ref=f"ticket:{ticket.id}"))
        elif self.settings.relay == "all" and upper is not None:
            alerts.append(Reply(upper[1], wording.new_relay(ticket, reporter.node.name, holder),
                                priority=priority + 2, kind="ticket_relay", ref=f"ticket:{ticket.id}"))
        text = wording.opened(ticket, holder, advice=advice, holder_here=here, accept_within=limits.accept,
                              tz=audience.config.tz, also_told=told)
        replies = [audience.to_reporter(reporter, text, extra_mentions=mentions, kind="ticket_open",
                                        ref=f"ticket:{ticket.id}", priority=priority)]
        return replies + extra + alerts

    async def raised(self, ticket: TicketRow, reporter: Reporter, holder: Holder | None, parse: Any, text: str,
                     line: str) -> list[Reply]:
        """A later report made the ticket urgent: the reporter's receipt (`line`, after the safety advice), its holder
        where they are (else @-ed under the receipt), and the tier above at once, as for an urgent report."""
        audience = self.audience
        advice = safety_advice(self.settings.safety_advice, category=ticket.category,
                               category_name=CATEGORY_NAMES.get(ticket.category),
                               explanation=tuple(getattr(parse, "explanation", ()) or ()), text=text)
        receipt = (f"⚠️{advice.rstrip('。！!')}。" if advice else "") + line
        replies = [audience.to_reporter(reporter, receipt, kind="ticket_merge", ref=f"ticket:{ticket.id}", priority=0)]
        replies = await audience.tell_holder(ticket, replies, wording.raised_for_holder(ticket, text, audience.config.tz))
        upper = audience.upper_room(ticket)
        if upper is not None and upper[1] not in {r.to for r in replies}:
            replies.append(Reply(upper[1], wording.raised_alert(ticket, reporter.node.name, holder, text), priority=0,
                                 kind="ticket_urgent", ref=f"ticket:{ticket.id}"))
        return replies

    async def acted(self, ticket: TicketRow, action: Action, actor_name: str, note: str,
                    answer_to: Address | None) -> list[Reply]:
        """Tell the reporter's group (and the tier above, compactly); the actor sees it there or privately."""
        summary = wording.action_summary(ticket, action)
        reporters = await self.audience.repo.reporters(ticket.id)
        room_reporters = [r for r in reporters if r.room_key == ticket.room_key] if ticket.room_id else []
        replies: list[Reply] = []
        to_reporter = self.audience.reporter_address(ticket)
        mentions = tuple(r.reporter_id for r in room_reporters[:20]) if ticket.room_id else ()
        names = " ".join(f"@{r.reporter_name}" for r in room_reporters[:20])
        line = wording.action_status(names, summary, actor_name, note)
        if action == Action.RESOLVE:
            line += wording.confirm_prompt(self.settings.auto_close_after)
        priority = priority_of(ticket)
        replies.append(Reply(to_reporter, line, mentions, priority=priority, kind="ticket_status",
                             ref=f"ticket:{ticket.id}"))
        if answer_to is not None and answer_to != to_reporter:
            replies.append(Reply(answer_to, wording.action_ack(summary, note), priority=priority, kind="ticket_ack",
                                 ref=f"ticket:{ticket.id}"))
        upper = self.audience.upper_room(ticket)
        relay = self.settings.relay
        if upper is not None and (relay == "all" or (relay == "urgent_escalated" and (
                ticket.urgency == "urgent" or ticket.escalated))) and upper[1] not in (to_reporter, answer_to):
            replies.append(Reply(upper[1], wording.action_relay(ticket, action, actor_name, note),
                                 priority=priority + 2, kind="ticket_relay", ref=f"ticket:{ticket.id}"))
        return replies

    async def merged(self, a: TicketRow, b: TicketRow, actor_name: str, reply_to: Address | None) -> list[Reply]:
        """B closed into A: A's group hears it, B's reporters are told where to follow it, the leader gets an ack."""
        priority = priority_of(a)
        to_a, to_b = self.audience.reporter_address(a), self.audience.reporter_address(b)
        line_a = wording.merged_for_target(a, b, actor_name)
        b_reporters = await self.audience.repo.reporters(b.id)
        mentions = tuple(r.reporter_id for r in b_reporters[:20]) if b.room_id else ()
        names = " ".join(f"@{r.reporter_name}" for r in b_reporters[:20]) if b.room_id else ""
        line_b = wording.merged_for_reporters(a, b, names)
        replies = [Reply(to_a, line_a, priority=priority, kind="ticket_status", ref=f"ticket:{a.id}")]
        if to_b == to_a:
            replies = [Reply(to_a, f"{line_a}\n{line_b}", mentions, priority=priority, kind="ticket_status",
                             ref=f"ticket:{a.id}")]
        else:
            replies.append(Reply(to_b, line_b, mentions, priority=priority, kind="ticket_status",
                                 ref=f"ticket:{b.id}"))
        if reply_to is not None and reply_to not in (to_a, to_b):
            replies.append(Reply(reply_to, wording.merged_ack(a, b), priority=priority, kind="ticket_ack",
                                 ref=f"ticket:{a.id}"))
        return replies

    async def split(self, ticket: TicketRow, new: TicketRow, reporter: Reporter, holder: Holder | None, text: str,
                    actor_name: str, reply_to: Address | None) -> list[Reply]:
        """A reporter's message became its own ticket: the old ticket's group hears, the new one opens as usual."""
        replies = await self.opened(new, reporter, holder)
        priority = priority_of(ticket)
        replies.insert(0, Reply(self.audience.reporter_address(ticket),
                                wording.split_status(ticket, new, reporter.name, text, actor_name),
                                priority=priority, kind="ticket_status", ref=f"ticket:{ticket.id}"))
        if reply_to is not None and reply_to not in {r.to for r in replies}:
            replies.append(Reply(reply_to, wording.split_ack(ticket, new), priority=priority, kind="ticket_ack",
                                 ref=f"ticket:{new.id}"))
        return replies

    async def withdrawn(self, ticket: TicketRow, action: Action, quote: str) -> list[Reply]:
        """The reporter took it back: thanked, and whoever was alerted told there is nothing more to do."""
        audience = self.audience
        done = wording.withdrawn_done(action)
        priority = priority_of(ticket)
        mentions: tuple[str, ...] = (ticket.reporter_id,) if ticket.room_id else ()
        prefix = f"@{ticket.reporter_name} " if ticket.room_id else ""
        replies = [Reply(audience.reporter_address(ticket), wording.withdrawn_for_reporter(ticket, done, prefix),
                         mentions, priority=priority, kind="ticket_status", ref=f"ticket:{ticket.id}")]
        note = wording.withdrawn_for_holder(ticket, quote, done)
        replies = await audience.tell_holder(ticket, replies, note)
        upper = audience.upper_room(ticket)
        if upper is not None and (ticket.urgency == "urgent" or ticket.escalated or self.settings.relay == "all") \
                and upper[1] not in {r.to for r in replies}:
            replies.append(Reply(upper[1], wording.relayed(ticket, note), priority=priority,
                                 kind="ticket_relay", ref=f"ticket:{ticket.id}"))
        return replies

    def escalated(self, ticket: TicketRow, reason: str, who: str) -> list[Reply]:
        """The reporters' group hears the ticket went up (the new holder's alert is the audience's batch)."""
        return [Reply(self.audience.reporter_address(ticket), wording.escalated_for_reporter(ticket, reason, who),
                      priority=priority_of(ticket), kind="ticket_escalate", ref=f"ticket:{ticket.id}")]
