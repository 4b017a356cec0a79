"""Tickets: the desk that acts on them (desk), who hears what (audience), what they read (wording), photos
(attachments). Callers import from here."""

from bot.tickets.audience import TICKET_PRIORITY, Audience, EscalationAlert, Reporter
from bot.tickets.desk import TicketDesk, ticket_location
from bot.tickets.wording import ACTION_NAMES, SKIP_REASONS, local_time, location_text, short_text, wording_assigned

__all__ = [
    "ACTION_NAMES", "SKIP_REASONS", "TICKET_PRIORITY", "Audience", "EscalationAlert", "Reporter", "TicketDesk",
    "local_time", "location_text", "short_text", "ticket_location", "wording_assigned",
]
