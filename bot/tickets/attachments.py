"""Photos sent with a report: the file kept on disk, and the image attached to the sender's ticket."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.domain.tickets import Action
from bot.tickets.audience import Reporter
from storage.models import MessageRow, TicketRow
from storage.ticket_repository import TicketRepository

_LOGGER = logging.getLogger(__name__)


class Photos:
    """Images and the tickets they belong to, for one unit of work."""

    def __init__(self, repo: TicketRepository, config: Config, now: datetime, recent_image: Any = None) -> None:
        self.repo = repo
        self.config = config
        self.settings = config.tickets
        self.now = now
        self.recent_image = recent_image  # optional hint: skip looking for photos nobody sent

    async def attach_loose(self, ticket: TicketRow, reporter: Reporter) -> None:
        """Images the reporter sent in the group just before reporting join the ticket."""
        if reporter.room_key is None:
            return
        if self.recent_image is not None and not self.recent_image(reporter.id, reporter.room_key):
            return
        since = self.now - self.settings.photo_window
        for image in await self.repo.loose_images(reporter.id, reporter.room_key, since):
            image.ticket_id = ticket.id
            await self.repo.add_event(ticket, at=self.now, actor=reporter.name, action=Action.ATTACH.value,
                                      from_state=ticket.state, to_state=ticket.state, note=image.attachment)

    async def attach(self, image: MessageRow, payload: bytes | None) -> TicketRow | None:
        """An image: keep the file, and attach it to the sender's ticket from the last few minutes, if any."""
        if payload:
            image.attachment = self.save(image, payload)
        if image.room_key is None:
            return None
        ticket = await self.repo.recent_by_reporter_in_room(image.sender_id, image.room_key,
                                                            self.now - self.settings.photo_window)
        if ticket is None:
            return None  # may still join a report that follows within the window
        image.ticket_id = ticket.id
        await self.repo.add_event(ticket, at=self.now, actor=image.sender_name, action=Action.ATTACH.value,
                                  from_state=ticket.state, to_state=ticket.state, note=image.attachment)
        return ticket

    def save(self, image: MessageRow, payload: bytes) -> str:
        """Write the picture under attachments_dir/<day>/ and return its path (relative to the config when inside)."""
        base = Path(self.settings.attachments_dir)
        if not base.is_absolute():
            base = self.config.base_dir / base
        day = self.now.strftime("%Y%m%d")
        kind = "png" if payload.startswith(b"\x89PNG") else "gif" if payload.startswith(b"GIF8") else "jpg"
        path = base / day / f"msg{image.id}.{kind}"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(payload)
        except OSError as exc:  # keep the message; the picture is lost but say so
            _LOGGER.error("could not save attachment %s: %s", path, exc)
            return f"unsaved:{exc.strerror}"
        return str(path.relative_to(self.config.base_dir)) if path.is_relative_to(self.config.base_dir) else str(path)
