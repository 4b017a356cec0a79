"""The frozen result of reading a config: Config and its sections, with their defaults."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.domain.calendar import WorkCalendar
from bot.domain.care import DEFAULT_DUTY_ROLES, DEFAULT_KINDS, CareEntry
from bot.domain.digest import Schedule
from bot.domain.duty import Roster
from bot.domain.grid import GridNode, GridTree, Person, RoleType
from bot.domain.reach import DEFAULT_SAFETY_ADVICE
from bot.domain.sla import QuietHours, SlaPolicy

if TYPE_CHECKING:
    from storage.session import Database

DEFAULT_TIERS = ("社区", "网格", "微网格", "楼道", "房东群")
MAX_TIERS = 6
DEFAULT_ROLES: tuple[RoleType, ...] = (
    RoleType("社区书记", leads=True, handles=True),
    RoleType("社区主任", leads=True, handles=True),
    RoleType("网格长", leads=True, handles=True),
    RoleType("网格员", leads=True, handles=True),
    RoleType("微网格长", leads=True, handles=True),
    RoleType("楼道长", leads=True, handles=True),
    RoleType("房东", leads=True, handles=True),
    RoleType("民警", leads=False, handles=True),
    RoleType("物业", leads=False, handles=True),
)
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/gridbot.db"
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TRANSPORT_KINDS = ("simulator", "wechaty")


@dataclass(frozen=True, slots=True)
class SendBudget:
    """How fast one WeChat account may send: at most `per_minute` in any 60 s, spaced with jitter."""

    per_minute: int = 20
    jitter: float = 0.3  # fraction of the mean spacing added at random


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """One WeChat account of a deployment that runs several (`gridbot run --account NAME`, one process each)."""

    name: str
    send_budget: SendBudget = SendBudget()
    endpoint: str | None = None  # wechaty: this account's puppet service (default: transport.endpoint)
    token_env: str | None = None  # wechaty: the variable holding this account's token
    sim_nodes: tuple[str, ...] = ()  # simulator: the subtrees whose groups this account is in (empty: all)


@dataclass(frozen=True, slots=True)
class TransportConfig:
    kind: str = "simulator"
    send_budget: SendBudget = SendBudget()
    endpoint: str | None = None  # wechaty puppet service host:port
    token_env: str = "WECHATY_PUPPET_SERVICE_TOKEN"
    max_attempts: int = 5
    offline_max_age: timedelta = timedelta(hours=24)  # queued sends wait this long for WeChat to come back
    accounts: tuple[AccountConfig, ...] = ()  # several accounts, one process each (needs PostgreSQL)
    sim_log: str | None = None  # simulator: append every message sent to this JSON Lines file (shared world)

    def account(self, name: str) -> AccountConfig | None:
        return next((a for a in self.accounts if a.name == name), None)


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = DEFAULT_DATABASE_URL
    url_env: str = "GRIDBOT_DATABASE_URL"
    schema: str | None = None  # PostgreSQL: the schema to use (GRIDBOT_DATABASE_SCHEMA wins)

    def resolved_schema(self) -> str | None:
        return os.environ.get("GRIDBOT_DATABASE_SCHEMA") or self.schema

    def resolved_url(self, base_dir: Path | None = None) -> str:
        """The URL to connect to: the environment variable wins; relative SQLite paths are under base_dir."""
        url = os.environ.get(self.url_env) or self.url
        prefix = "sqlite+aiosqlite:///"
        if url.startswith(prefix) and base_dir is not None:
            path = url[len(prefix):]
            if path and path != ":memory:" and not path.startswith("/"):
                url = prefix + str((base_dir / path).resolve())
        return url


@dataclass(frozen=True, slots=True)
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    enabled: bool = True
    public_url: str | None = None  # how people reach the console (behind a proxy); links in chat use it
    secure_cookies: bool = False  # true behind HTTPS: session cookies only travel encrypted
    open311_public: bool = False  # true: Open311 GET answers without the API key, masked and without names

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


CATEGORIES = ("safety", "sanitation", "repair", "dispute", "assistance", "security", "health", "inquiry", "other")
RELAY_SCOPES = ("all", "urgent_escalated", "none")


@dataclass(frozen=True, slots=True)
class TicketConfig:
    """How tickets are numbered, merged, routed, timed and relayed."""

    first_number: int = 1001
    merge_window: timedelta = timedelta(hours=12)
    photo_window: timedelta = timedelta(minutes=5)
    auto_close_after: timedelta = timedelta(days=3)
    reopen_window: timedelta = timedelta(days=3)  # after 办结, "还是不亮" from anyone in the group reopens
    withdraw_window: timedelta = timedelta(hours=2)  # after a report, the reporter's "看错了/没事了" withdraws it
    me_too_window: timedelta = timedelta(minutes=30)  # "+1 我家也是" joins the group's report from this recently
    relay: str = "all"  # what the group of the tier above is told: all, urgent_escalated, none
    routing: Mapping[str, str] = field(default_factory=dict)  # category → preferred role
    sla: SlaPolicy = SlaPolicy()
    attachments_dir: str = "data/attachments"
    # situation or category → the first thing to do, said in the reply to an urgent report
    safety_advice: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SAFETY_ADVICE))
    # a handler gets at most one escalation message per this window (several tickets in one list); 0 = one each
    escalation_batch: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class NoticeConfig:
    """When and how the bot reminds groups that have not acknowledged a notice."""

    remind_before: timedelta = timedelta(hours=2)  # reminder this long before the deadline
    threshold: float = 0.8  # groups below this share of members acknowledged get a reminder
    mention_chunk: int = 20  # @s per reminder message
    ack_window: timedelta = timedelta(days=7)  # how long after delivery a "收到" still counts
    quiet: QuietHours | None = None  # when routine reminders wait; None: the same as tickets.quiet_hours
    failure_report_every: timedelta = timedelta(minutes=5)  # failed groups are reported together, this often


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    """When the bot opens a ticket by itself, when it asks a leader first, and how often it asks."""

    ticket: float = 0.75  # a report at least this likely opens a ticket and is answered in the group
    review: float = 0.25  # from this up to `ticket`: no reply in the group, a leader is asked (#登记 / #忽略)
    urgent_review: float = 0.2  # a possibly urgent message at least this likely goes to a leader at once
    gather_every: timedelta = timedelta(minutes=30)  # a leader gets at most one review list this often


@dataclass(frozen=True, slots=True)
class PollConfig:
    """微议事: how long a poll runs when no deadline is given, and who may start one."""

    default_duration: timedelta = timedelta(days=3)
    start_roles: tuple[str, ...] = ()  # roles that may start a poll; empty: any leading role (as for #通知)


@dataclass(frozen=True, slots=True)
class SatisfactionConfig:
    """The one question asked of a reporter after their ticket closes."""

    enabled: bool = True
    ask_after: timedelta = timedelta(minutes=30)  # wait this long after the close before asking
    window: timedelta = timedelta(days=3)  # a reply this long after the question is still read as the answer


@dataclass(frozen=True, slots=True)
class DigestConfig:
    """When digests go out and to whom."""

    schedules: tuple[Schedule, ...] = (Schedule.parse("day", "18:00"), Schedule.parse("week", "mon 08:00"))
    grace: timedelta = timedelta(hours=6)  # a digest missed while the bot was down still goes out this long after
    secretary_roles: tuple[str, ...] = ("社区书记", "社区主任")  # on the top node: the whole community
    leader_roles: tuple[str, ...] = ("网格长",)  # on lower nodes: their own subtree ([] for none)
    room: str | None = None  # send the community digest to this group instead of privately
    chart: bool = True  # draw the weekly chart (PNG)
    charts_dir: str = "data/charts"
    skip_empty: bool = True  # no digest for a period with nothing in it (bot.domain.digest.is_empty)


CHECK_IN_CHANNELS = ("private", "group")


@dataclass(frozen=True, slots=True)
class CheckInSetting:
    """One resident's daily 报平安: when, where (private chat or the group) and to whom (the resident or a proxy)."""

    at: time
    answer_by: time
    channel: str = "private"
    contact: str = ""  # a WeChat id, or a person key of a proxy who answers for the resident


@dataclass(frozen=True, slots=True)
class CareResident:
    """A ledger entry as configured, with its daily check-in (None: no 报平安)."""

    entry: CareEntry
    check_in: CheckInSetting | None = None


@dataclass(frozen=True, slots=True)
class CareConfig:
    """The care ledger (关爱台账): kinds, who has a care duty, check-in timing, the residents."""

    kinds: tuple[str, ...] = DEFAULT_KINDS
    duty_roles: tuple[str, ...] = DEFAULT_DUTY_ROLES
    at: time = time(9, 0)
    answer_by: time = time(11, 0)
    second_after: timedelta = timedelta(minutes=30)  # after the 楼道长 was asked: the family and grid leader
    ticket_after: timedelta = timedelta(minutes=30)  # after them: the urgent ticket
    holidays: tuple[date, ...] = ()  # days without a check-in (only those configured)
    residents: tuple[CareResident, ...] = ()

    def resident(self, key: str) -> CareResident | None:
        return next((r for r in self.residents if r.entry.key == key), None)


@dataclass(frozen=True, slots=True)
class CalendarConfig:
    """Working days (public holidays, 调休, the deployment's extra days) and whether holidays are quiet."""

    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    holidays_quiet: bool = False  # true: routine reminders and escalations also wait out public holidays

    def coverage_notice(self, day: date, config_path: Path | str) -> str | None:
        """For the operator: the holiday data does not cover `day`'s year (or in December the next), and where in
        the config to add the days; None when covered."""
        coverage = self.calendar.coverage_warning(day)
        if coverage is None:
            return None
        return (f"{coverage} 国务院公布放假安排后，请写在 {config_path} 的 calendar.extra_holidays（放假）和 "
                f"calendar.extra_workdays（调休上班）里。 / Once announced, add them under calendar.extra_holidays "
                f"(days off) and calendar.extra_workdays (make-up working days) in {config_path}.")


@dataclass(frozen=True, slots=True)
class Config:
    """One deployment, validated."""

    path: Path
    name: str
    timezone: str
    tree: GridTree
    people: Mapping[str, Person]
    roles: Mapping[str, RoleType]
    database: DatabaseConfig
    transport: TransportConfig
    web: WebConfig
    lexicon: Mapping[str, Any] | None = None
    tickets: TicketConfig = TicketConfig()
    notices: NoticeConfig = NoticeConfig()
    digests: DigestConfig = DigestConfig()
    review: ReviewConfig = ReviewConfig()
    care: CareConfig = CareConfig()
    polls: PollConfig = PollConfig()
    satisfaction: SatisfactionConfig = SatisfactionConfig()
    warnings: tuple[str, ...] = ()
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    duty: Roster = field(default_factory=Roster)  # 值班: who is on duty for a node when

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def database_url(self) -> str:
        return self.database.resolved_url(self.base_dir)

    def open_database(self) -> Database:
        """The deployment's database (URL and schema from config or environment)."""
        from storage.session import Database

        return Database(self.database_url(), schema=self.database.resolved_schema())


@dataclass(frozen=True, slots=True)
class Prebuilt:
    """The validated heavy part of a config (tree and people), as kept in the cache."""

    tiers: tuple[str, ...]
    roles: tuple[RoleType, ...]
    people: dict[str, Person]
    nodes: list[GridNode]
    warnings: tuple[str, ...]
