"""The room book: what the bot knows of its groups beyond config — addresses, recent notices and photos.

A configured group is named by its key (its topic) in config and in outbox rows; the transport names it by
an id it assigns. The book learns the pairing from every message and every room listing, so the sender can
turn a key into an address (`resolve`) and a transport id back into a key and node (`key_and_node`). It
also remembers, in memory and rebuilt from the database at start-up, when each group last received a
notice (the parser is told a notice is pending, so "收到" reads as an acknowledgement) and when each sender
last posted a photo there (a photo followed by text joins the report).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.config import Config
from bot.domain.grid import GridNode, Room
from bot.domain.people import household_of
from bot.messages import Address, IncomingMessage
from bot.transport.base import Transport
from storage.repositories import GridRepository, MemberRepository, clean_incoming
from storage.session import Database, Session

_LOGGER = logging.getLogger(__name__)


class RoomBook:
    """Addressing between config keys and transport ids, and the recent notices and photos per group."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.seen: set[str] = set()  # room keys already recorded in the rooms table by this process
        self._topics: dict[str, str] = {}  # transport room id → topic, as last seen
        self._room_ids: dict[str, str] = {}  # configured room key → transport room id, as learned
        self._images: dict[tuple[str, str], datetime] = {}  # (sender, room key) → last photo, to spare a query
        self._notices: dict[str, datetime] = {}  # room key → when it last received a notice

    # -- addressing ------------------------------------------------------------------------------

    def learn(self, room_id: str, topic: str | None, key: str | None) -> None:
        if topic:
            self._topics[room_id] = topic
        if key:
            self._room_ids[key] = room_id

    def topic(self, room_id: str) -> str | None:
        return self._topics.get(room_id)

    def resolve(self, to: Address) -> Address:
        """Outbox rows may name a group by its configured key (topic); map it to the transport's id."""
        if not to.is_room or to.id in self._topics:
            return to
        room_id = self._room_ids.get(to.id)
        if room_id is None:
            room = self.config.tree.room(topic=to.id)
            room_id = room.id if room is not None and room.id else None
        return Address.room(room_id) if room_id else to

    def key_and_node(self, room_id: str) -> tuple[str | None, str | None]:
        """The configured key and node code of a transport room id (the id itself when config does not know it)."""
        room = self.config.tree.room(room_id=room_id)
        if room is None:
            topic = self._topics.get(room_id)
            room = self.config.tree.room(topic=topic) if topic else None
        if room is None:
            return room_id, None
        return room.key, room.node_code

    def locate(self, received: IncomingMessage) -> tuple[IncomingMessage, Room | None, GridNode | None, str | None]:
        """The message as handlers see it (cleaned), its configured group, node and room key (pure, fast)."""
        msg = clean_incoming(received)
        tree = self.config.tree
        room = None
        if msg.conversation.is_room:
            room = tree.room(room_id=msg.conversation.id, topic=msg.room_topic)
            self.learn(msg.conversation.id, msg.room_topic, room.key if room else None)
        node = tree.node(room.node_code) if room is not None else None
        room_key = room.key if room is not None else (msg.conversation.id if msg.conversation.is_room else None)
        return msg, room, node, room_key

    # -- recent notices and photos -----------------------------------------------------------------

    def notice_sent(self, room_key: str, at: datetime) -> None:
        self._notices[room_key] = at

    def notice_pending(self, room_key: str | None, now: datetime) -> bool:
        """Did this group receive a notice within the acknowledgement window?"""
        if room_key is None:
            return False
        at = self._notices.get(room_key)
        return at is not None and at >= now - self.config.notices.ack_window

    def photo_posted(self, sender_id: str, room_key: str, at: datetime) -> None:
        self._images[(sender_id, room_key)] = at

    def recent_photo(self, sender_id: str, room_key: str, now: datetime) -> bool:
        at = self._images.get((sender_id, room_key))
        if at is None:
            return False
        if at < now - self.config.tickets.photo_window:
            del self._images[(sender_id, room_key)]
            return False
        return True

    def remember(self, photos: list[tuple[str, str, datetime]], notices: list[tuple[str, datetime]]) -> None:
        """What the database says happened lately (at start-up: the memory of the process that ran before)."""
        for sender, room_key, at in photos:
            self._images[(sender, room_key)] = at
        for room_key, at in notices:
            self._notices[room_key] = at

    # -- the rooms the account is in ---------------------------------------------------------------

    async def refresh(self, transport: Transport, db: Database, now: Callable[[], datetime]) -> list[str] | None:
        """Record the rooms the account is in and their members; returns the configured keys it is in (None:
        the transport could not list them). Unknown groups are logged for the IT person to configure."""
        try:
            rooms = await transport.rooms()
        except Exception as exc:
            _LOGGER.warning("could not list rooms: %s", exc)
            return None
        tree = self.config.tree
        unknown: list[str] = []
        known: list[str] = []

        async def work(session: Session) -> None:
            unknown.clear()  # a retried unit of work starts afresh
            known.clear()
            members: list[tuple[str, str, str, str | None]] = []
            named: list[tuple[str, str, str, str | None]] = []  # members the transport named (group nicknames)
            repo = GridRepository(session)
            for info in rooms:
                room = tree.room(room_id=info.id, topic=info.topic)
                key = room.key if room is not None else info.id
                await repo.room_seen(key, transport_id=info.id, topic=info.topic,
                                     node_code=room.node_code if room else None, now=now())
                if room is None:
                    unknown.append(f"{info.topic} ({info.id})")
                    continue
                known.append(room.key)
                self.learn(info.id, info.topic, room.key)
                names = info.member_names or info.member_ids
                listed = [(room.key, member, name, household_of(name))
                          for member, name in zip(info.member_ids, names) if member != transport.self_id]
                members.extend(listed)
                if info.member_names:
                    named.extend(listed)
            repo_members = MemberRepository(session)
            # a nickname set or changed since (WeChat announces none) renames the member and finds the household
            await repo_members.rename(named)
            await repo_members.add_missing(members, now=now())

        await db.run(work, what="room refresh")
        if unknown:
            _LOGGER.warning("the bot is in %d group(s) config.yaml does not know; add them to a node's rooms: %s",
                            len(unknown), "; ".join(unknown[:20]))
        return known

