"""Database tables. Times are stored in UTC and come back as aware datetimes on every backend.

(Longer than most modules, on purpose: one job, the schema, in one place — the migrations are checked against it,
index by index, in tests/storage/test_schema.py.)
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import text
from sqlalchemy.orm import DeclarativeBase, Mapped, configure_mappers, mapped_column

# BigInteger ids that still autoincrement on SQLite (which only does so for INTEGER PRIMARY KEY).
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class NodeRow(Base):
    """A grid node as last synced from config."""

    __tablename__ = "nodes"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(50))
    depth: Mapped[int] = mapped_column(Integer)
    parent_code: Mapped[str | None] = mapped_column(String(64), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RoomRow(Base):
    """A WeChat group: configured ones carry a node; unknown ones the bot sits in are kept too."""

    __tablename__ = "rooms"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room_key: Mapped[str] = mapped_column(String(200), unique=True)
    transport_id: Mapped[str | None] = mapped_column(String(200), index=True)
    topic: Mapped[str | None] = mapped_column(String(200), index=True)
    node_code: Mapped[str | None] = mapped_column(String(64), index=True)
    configured: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime())
    served_by: Mapped[str | None] = mapped_column(String(100), index=True)  # the account that sends here


class PersonRow(Base):
    """Someone with a role, as configured."""

    __tablename__ = "people"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    wechat_id: Mapped[str | None] = mapped_column(String(200), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))


class MemberRow(Base):
    """A member of a room (resident or leader), with the household their nickname names."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("room_key", "member_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room_key: Mapped[str] = mapped_column(String(200), index=True)
    member_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200))
    household: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MessageRow(Base):
    """Every message in and out, as received or sent, with what the parser made of it."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_room_at", "room_key", "at"),
        # the durable inbox: received messages not handled yet (handler = INBOX), found quickly at start-up
        Index("ix_messages_inbox", "id", sqlite_where=text("handler = 'inbox'"),
              postgresql_where=text("handler = 'inbox'")),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" / "out"
    conversation_kind: Mapped[str] = mapped_column(String(10))  # room / contact
    conversation_id: Mapped[str] = mapped_column(String(200))
    room_key: Mapped[str | None] = mapped_column(String(200))
    node_code: Mapped[str | None] = mapped_column(String(64), index=True)
    sender_id: Mapped[str] = mapped_column(String(200))
    sender_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)  # the original, escaped, when `text` had to be cleaned
    msg_type: Mapped[str] = mapped_column(String(20), default="text")
    transport_message_id: Mapped[str | None] = mapped_column(String(200))
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(20))
    urgency: Mapped[str | None] = mapped_column(String(10))
    parse: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    handler: Mapped[str | None] = mapped_column(String(50))
    ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    attachment: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)  # why the message could not be handled (handler "error")
    account: Mapped[str | None] = mapped_column(String(100))  # the account that received it (several accounts)


INBOX = "inbox"  # MessageRow.handler of a message stored on arrival and not handled yet


class OutboxRow(Base):
    """One message to send. Rows are the durable queue: pending → sending → sent | failed."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_priority", "status", "priority", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    to_kind: Mapped[str] = mapped_column(String(10))
    to_id: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=5)
    kind: Mapped[str] = mapped_column(String(20), default="reply")
    ref: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    transport_message_id: Mapped[str | None] = mapped_column(String(200))
    account: Mapped[str | None] = mapped_column(String(100))
    attachment: Mapped[str | None] = mapped_column(String(500))  # an image file sent instead of the text


class TicketRow(Base):
    """A case raised from a report; its life is in ticket_events."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_state_check", "state", "next_check_at"),
        Index("ix_tickets_state_node", "state", "node_code", "due_at"),
        Index("ix_tickets_path_created", "node_path", "created_at"),  # a subtree's newest (migration 0007)
        Index("ix_tickets_state_path", "state", "node_path", "due_at"),  # a subtree's open / overdue (0007)
        Index("ix_tickets_room_problem", "room_key", "problem_key", "created_at"),  # duplicates (0012); any room (0018)
        Index("ix_tickets_node_problem", "node_code", "problem_key", "created_at"),  # duplicates (0012)
        Index("ix_tickets_assignee_state", "assignee", "state"),  # a handler's tickets waiting for acceptance (0019)
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    urgency: Mapped[str] = mapped_column(String(10))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    node_code: Mapped[str] = mapped_column(String(64))  # indexed by ix_tickets_node_problem (migration 0018)
    node_path: Mapped[str | None] = mapped_column(String(800), index=True)  # "/JQS/JQS-01/JQS-01-03/": subtree = prefix
    room_key: Mapped[str | None] = mapped_column(String(200))
    room_id: Mapped[str | None] = mapped_column(String(200))  # the transport's id, to reply into
    reporter_id: Mapped[str] = mapped_column(String(200))
    reporter_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    location: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    building: Mapped[str | None] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(20))
    room_no: Mapped[str | None] = mapped_column(String(20))
    place: Mapped[str | None] = mapped_column(String(100))
    problem_key: Mapped[str | None] = mapped_column(String(40))  # "电梯:坏" (bot.domain.problems); migration 0011
    assignee: Mapped[str | None] = mapped_column(String(100))  # person key
    assignee_node: Mapped[str | None] = mapped_column(String(64))
    reporter_count: Mapped[int] = mapped_column(Integer, default=1)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)  # ever passed up (the "77 of 412")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # deadline of the current stage
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when the deadline job looks again
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # for digests, kept as plain figures so every backend aggregates them the same way
    accept_seconds: Mapped[int | None] = mapped_column(Integer)  # created → first accepted
    resolve_seconds: Mapped[int | None] = mapped_column(Integer)  # created → first resolved
    breached: Mapped[bool] = mapped_column(Boolean, default=False)  # a deadline passed while it was open
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # its reporters and timeline are rows of their own (written by Core statements in storage/ticket_repository.py,
    # removed with it by the database: ON DELETE CASCADE); no ORM relationship, so nothing cascades on `add`


class TicketReporterRow(Base):
    """Everyone who reported the same problem ("+1 我家也是")."""

    __tablename__ = "ticket_reporters"
    __table_args__ = (UniqueConstraint("ticket_id", "reporter_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[str] = mapped_column(String(200), index=True)
    reporter_name: Mapped[str] = mapped_column(String(200))
    room_key: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class CounterRow(Base):
    """Short sequential numbers people can type (ticket 1024, notice 17)."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class TicketEventRow(Base):
    """One step in a ticket's timeline: who did what, when, with what note."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)


class NoticeRow(Base):
    """A notice posted once by a leader, fanned out to the groups below through the outbox.

    Each group's copy is an outbox row with ref "notice:<id>": its status is the delivery record.
    """

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    sender_key: Mapped[str] = mapped_column(String(100))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    reply_kind: Mapped[str | None] = mapped_column(String(10))  # where the sender hears back: room / contact
    reply_id: Mapped[str | None] = mapped_column(String(200))
    node_code: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    target: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer, default=6)
    room_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NoticeAckRow(Base):
    """A member acknowledged a notice in a group; once per member."""

    __tablename__ = "notice_acks"
    __table_args__ = (UniqueConstraint("notice_id", "room_key", "member_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    room_key: Mapped[str] = mapped_column(String(200))
    member_id: Mapped[str] = mapped_column(String(200))
    member_name: Mapped[str] = mapped_column(String(200))
    household: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccountRow(Base):
    """A bot account's process: alive while its heartbeat is fresh."""

    __tablename__ = "accounts"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(200))


class RoomReachRow(Base):
    """An account is in a group (as its transport last listed it)."""

    __tablename__ = "room_reach"
    room_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    account: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketTermRow(Base):
    """Search terms of a ticket's text (bot.domain.search): finds a rare word without reading every ticket."""

    __tablename__ = "ticket_terms"
    term: Mapped[str] = mapped_column(String(16), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class WebUserRow(Base):
    """A console / API account. Scope comes from the linked person's roles in config (or `node` for viewers)."""

    __tablename__ = "web_users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))  # secretary / leader / viewer
    person_key: Mapped[str | None] = mapped_column(String(100))
    node_code: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str | None] = mapped_column(String(100), index=True)  # API token (sha256), shown once
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebSessionRow(Base):
    """A logged-in browser: the cookie holds the token, the table its hash."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # what the next page shows once (set by the server after an action, never read from the URL)
    flash: Mapped[str | None] = mapped_column(Text)
    flash_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditRow(Base):
    """Who did what from the console, the API or Open311."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    username: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    outcome: Mapped[str | None] = mapped_column(String(10))  # allowed / refused / failed; NULL before 0014


class DigestDeliveryRow(Base):
    """A digest for one period, node and recipient: written with its outbox row, so it goes out exactly once."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("period", "period_start", "node_code", "recipient"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(10))  # day / week
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    node_code: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(100))  # person key
    to_kind: Mapped[str] = mapped_column(String(10))
    to_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    chart: Mapped[str | None] = mapped_column(String(500))  # PNG path, when one was drawn


class BindingCodeRow(Base):
    """A one-time code that binds whoever sends it privately to a person (only its SHA-256 is kept)."""

    __tablename__ = "binding_codes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_key: Mapped[str] = mapped_column(String(100), index=True)
    code_hash: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by: Mapped[str | None] = mapped_column(String(200))  # the contact id that sent it
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BindingRow(Base):
    """A WeChat contact id known to be a person of config (beside config's own wechat_id); revocable."""

    __tablename__ = "bindings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_key: Mapped[str] = mapped_column(String(100), index=True)
    contact_id: Mapped[str] = mapped_column(String(200), index=True)
    code_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(100))


# what a "收到" in a group answers: that group's latest delivered notice (migration 0004)
Index("ix_outbox_to_id_sent_at", OutboxRow.to_id, OutboxRow.sent_at)


class ReviewRow(Base):
    """A message that may be a report: held back from the group until a leader registers or dismisses it."""

    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_items_state_leader", "state", "leader_key"),
                      Index("ix_review_items_state_node_path", "state", "node_path"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    room_key: Mapped[str | None] = mapped_column(String(200))
    room_id: Mapped[str | None] = mapped_column(String(200))
    node_code: Mapped[str] = mapped_column(String(64))
    node_path: Mapped[str] = mapped_column(String(500))
    sender_id: Mapped[str] = mapped_column(String(200))
    sender_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    parse: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    category: Mapped[str | None] = mapped_column(String(20))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    confidence: Mapped[float] = mapped_column(default=0.0)
    leader_key: Mapped[str | None] = mapped_column(String(100))  # who is asked to decide
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending / registered / dismissed
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when its leader was told
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(BigInteger)


class HouseholdRow(Base):
    """A registered household (一户一代表) of one node, from the community's spreadsheet (bot/households_import.py)."""

    __tablename__ = "households"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    node_code: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(100))  # normalized address ("3-2-201")
    ref: Mapped[str] = mapped_column(String(200), unique=True)  # node and key ("JQS-01-03/3-2-201")
    address: Mapped[str] = mapped_column(String(300))  # as the community writes it
    representative: Mapped[str | None] = mapped_column(String(100))
    rented: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str | None] = mapped_column(String(300))  # the file it came from


class HouseholdPersonRow(Base):
    """A member, tenant or proxy of a registered household (a proxy speaks for the member at `proxy_for`)."""

    __tablename__ = "household_people"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    relation: Mapped[str] = mapped_column(String(30), default="")  # to the head; a proxy's: to its member
    phone: Mapped[str | None] = mapped_column(String(100))  # as given; shown masked
    nickname: Mapped[str | None] = mapped_column(String(200))
    room_key: Mapped[str | None] = mapped_column(String(200))  # the group they are in, when registered
    is_tenant: Mapped[bool] = mapped_column(Boolean, default=False)
    is_proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    proxy_for: Mapped[int | None] = mapped_column(Integer)  # the member's position
    whereabouts: Mapped[str] = mapped_column(String(100), default="")  # a proxy's "在杭州工作"
    moved_in: Mapped[date | None] = mapped_column(Date)
    moved_out: Mapped[date | None] = mapped_column(Date)
# -- care (关爱台账): the daily 报平安 and visits (migration 0014) -----------------------------------------


class CareStepRow(Base):
    """A step of one resident's daily check-in, done: prompt, look_in, alert, ticket, answered (once a day each)."""

    __tablename__ = "care_steps"
    __table_args__ = (UniqueConstraint("entry_key", "day", "step", name="uq_care_steps_entry_day_step"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_key: Mapped[str] = mapped_column(String(100))
    day: Mapped[str] = mapped_column(String(10))  # the local date, ISO (2026-11-23)
    step: Mapped[str] = mapped_column(String(12))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ref: Mapped[str | None] = mapped_column(String(100))  # e.g. the ticket opened ("ticket:12")


class CareReplyRow(Base):
    """A sign of life for a resident's check-in: their message, or a helper's word that they are all right."""

    __tablename__ = "care_replies"
    __table_args__ = (Index("ix_care_replies_entry_at", "entry_key", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_key: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    by_subject: Mapped[bool] = mapped_column(Boolean, default=True)
    sender_id: Mapped[str] = mapped_column(String(200))


class CarePauseRow(Base):
    """Days without a check-in, from the resident's or a relative's own words ("我去女儿家住一周")."""

    __tablename__ = "care_pauses"
    __table_args__ = (Index("ix_care_pauses_entry_end", "entry_key", "end_day"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_key: Mapped[str] = mapped_column(String(100))
    start_day: Mapped[str] = mapped_column(String(10))
    end_day: Mapped[str] = mapped_column(String(10))
    said_on: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text, default="")
    sender_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CareVisitRow(Base):
    """A visit (走访) or a call (电访) recorded against a ledger entry."""

    __tablename__ = "care_visits"
    __table_args__ = (Index("ix_care_visits_entry_at", "entry_key", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_key: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(10))  # visit / call
    by: Mapped[str] = mapped_column(String(100))  # person key
    note: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[bool] = mapped_column(Boolean, default=False)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CareReminderRow(Base):
    """A reminder of overdue visits sent to a responsible person on one local day (at most one a day each)."""

    __tablename__ = "care_reminders"
    __table_args__ = (UniqueConstraint("person_key", "day", name="uq_care_reminders_person_day"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_key: Mapped[str] = mapped_column(String(100))
    day: Mapped[str] = mapped_column(String(10))  # the local date, ISO
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entries: Mapped[int] = mapped_column(Integer, default=0)  # how many residents it named
class PollRow(Base):
    """A 微议事 poll in one group: the question, its options, when it closes and what makes it count."""

    __tablename__ = "polls"
    __table_args__ = (Index("ix_polls_state_closes_at", "state", "closes_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open / closed
    room_key: Mapped[str] = mapped_column(String(200), index=True)
    room_id: Mapped[str] = mapped_column(String(200))  # the transport's id, to post into
    node_code: Mapped[str] = mapped_column(String(64))
    starter_key: Mapped[str] = mapped_column(String(100))
    starter_name: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON)
    quorum: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # bot.domain.polls.Quorum's fields
    ticket_no: Mapped[int | None] = mapped_column(Integer)  # a linked ticket ("关联 #1023")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline_given: Mapped[bool] = mapped_column(Boolean, default=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(200))  # the starter's name, or "截止" at the deadline
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the final tally, kept as it was announced


class PollVoteRow(Base):
    """One household's vote (the latest replaces the earlier one)."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "voter"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    voter: Mapped[str] = mapped_column(String(200))  # household key, or "member:<id>"
    member_id: Mapped[str] = mapped_column(String(200))
    member_name: Mapped[str] = mapped_column(String(200))
    option: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SatisfactionRow(Base):
    """A reporter asked once whether a closed ticket was handled to their satisfaction, and their answer."""

    __tablename__ = "satisfaction"
    __table_args__ = (UniqueConstraint("ticket_id", "reporter_id"),
                      Index("ix_satisfaction_reporter_state", "reporter_id", "state"),
                      Index("ix_satisfaction_answered_path", "answered_at", "node_path"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    ticket_number: Mapped[int] = mapped_column(Integer)
    reporter_id: Mapped[str] = mapped_column(String(200))
    reporter_name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10))  # asked / answered / skipped (merged, withdrawn: never asked)
    to_kind: Mapped[str | None] = mapped_column(String(10))  # where it was asked: room / contact
    to_id: Mapped[str | None] = mapped_column(String(200))
    node_code: Mapped[str] = mapped_column(String(64))
    node_path: Mapped[str | None] = mapped_column(String(800))
    handler_key: Mapped[str | None] = mapped_column(String(100))  # who held the ticket when it closed
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    score: Mapped[int | None] = mapped_column(Integer)  # 1 满意, 2 一般, 3 不满意
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopened: Mapped[bool] = mapped_column(Boolean, default=False)


configure_mappers()  # every model is above: ready before a first use builds an object without its constructor
