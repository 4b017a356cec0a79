"""The app: config → database → scheduler → transport → router → sender → web, and back down.

`GridBot` wires the parts and holds the order of start-up and shut-down, written once, here. The work is
done by the parts it builds: `bot.inbound` (a message from the transport: stored, then parsed, routed and
answered), `bot.rooms` (addressing and what the bot remembers of its groups), `bot.chores` (every feature's
periodic jobs), `bot.outbox` (the paced sender) and `bot.work` (one unit of work: session, time, desks). The
features themselves (their handlers and jobs) are listed in `handlers/features.py`.
"""

from __future__ import annotations

import gc
import logging
import random
from collections.abc import Sequence
from datetime import datetime

from bot.chores import Chores
from bot.clock import Clock, SystemClock, VirtualClock
from bot.cluster import Cluster
from bot.config import Config
from bot.digests import DigestSender
from bot.domain.budget import SendLimiter
from bot.domain.people import Directory
from bot.feature import Feature
from bot.inbound import Inbound, Parser, Stats, Stored
from bot.jobs import Jobs
from bot.messages import Address, IncomingMessage
from bot.outbox import OutboxSender
from bot.rooms import RoomBook
from bot.settle import settle
from bot.transport.base import Event, Transport, can_send_images
from bot.work import Services
from handlers.features import FEATURES, build_router
from handlers.router import RouteResult, Router
from storage.identity_repository import IdentityRepository
from storage.notice_repository import NoticeRepository
from storage.message_repository import MessageRepository
from storage.repositories import GridRepository
from storage.session import Database

_LOGGER = logging.getLogger(__name__)

__all__ = ["GridBot", "Parser", "build_router", "default_parser"]


def settle_heap() -> None:
    """Once a long-running process has started: what start-up built and keeps for good (the grid tree, the
    parser's words and model, the ORM's mappers and statement caches) is moved out of the garbage collector's
    sight (`gc.freeze`), so that its full collections walk only what messages made — measured on the pipeline
    benchmark, a full collection went from ~90 ms to ~30 ms. Not for a process that starts many bots (tests):
    frozen objects are never collected."""
    gc.collect()
    gc.freeze()


def default_parser(config: Config) -> Parser | None:
    """The message parser with the deployment's own words, or None if the parser is not installed."""
    try:
        from bot.domain.parsing import Lexicon, ParseContext, ParseResult, Thresholds, parse
    except ImportError:  # pragma: no cover - the parser ships with the bot
        _LOGGER.warning("message parser not available; messages are stored without a parse")
        return None
    lexicon = Lexicon.from_mapping(config.lexicon) if config.lexicon else Lexicon.default()
    review = config.review
    thresholds = Thresholds(ticket=review.ticket, review=review.review, urgent_review=review.urgent_review)

    def run(text: str, *, room_tier: str | None = None, notice_pending: bool = False) -> ParseResult:
        return parse(text, ParseContext(notice_pending=notice_pending, room_tier=room_tier), lexicon, thresholds)

    return run


class GridBot:
    """One bot account serving the groups of one deployment."""

    def __init__(self, config: Config, transport: Transport, *, clock: Clock | None = None,
                 database: Database | None = None, router: Router | None = None,
                 parser: Parser | None | bool = True, rng: random.Random | None = None,
                 scheduler: bool = True, account: str | None = None,
                 features: Sequence[Feature] = FEATURES) -> None:
        """`account`: one of config transport.accounts — this process serves that account's groups alongside
        other processes on the same PostgreSQL database (see bot/cluster.py); None: the only process."""
        self.config = config
        self.account = account
        self.transport = transport
        self.clock = clock or SystemClock()
        self.db = database or config.open_database()
        self.router = router or build_router(features)
        self.parser: Parser | None = default_parser(config) if parser is True else (parser or None)
        directory = Directory(config.tree, config.people, config.roles)
        own_ids = getattr(transport, "person_ids", None)
        if callable(own_ids):  # the simulator's ids for people config gives no wechat_id (training only)
            directory.load_bindings(own_ids(), fixed=True)
        account_config = config.transport.account(account) if account else None
        if account is not None and account_config is None:
            raise ValueError(f"unknown account {account!r}: transport.accounts lists "
                             f"{', '.join(a.name for a in config.transport.accounts) or 'none'}")
        self.rooms = RoomBook(config)
        self.services = Services(config, directory, self.db, self.clock, bot_id=lambda: self.transport.self_id,
                                 recent_image=lambda sender, room: self.rooms.recent_photo(sender, room,
                                                                                          self.clock.now()))
        self.chores = Chores(self.services, self.rooms, features)
        budget = account_config.send_budget if account_config else config.transport.send_budget
        self.sender = OutboxSender(
            self.db, transport, SendLimiter(budget.per_minute, jitter=budget.jitter, rng=rng), self.clock,
            max_attempts=config.transport.max_attempts, room_keys=self.rooms.key_and_node,
            resolve=self.rooms.resolve, on_sent=self.chores.sent, on_failed=self.chores.failed, account=account,
            offline_max_age=config.transport.offline_max_age)
        self.services.wake = self.sender.wake
        self.cluster: Cluster | None = None
        if account is not None:
            self.cluster = Cluster(self.db, account, self.clock, on_wake=self.sender.wake)
            self.sender.batch, self.sender.idle_poll = 5, 2.0
        self.jobs = Jobs(self.clock, config.timezone, enabled=scheduler,
                         leader=(lambda: self.cluster.is_leader) if self.cluster is not None else None)
        self.digests = DigestSender(self.db, config, images=can_send_images(transport), directory=self.directory,
                                    bot_id=lambda: self.transport.self_id)
        self.services.digests = self.digests
        self.inbound = Inbound(self.services, self.rooms, self.router, self.parser, transport, account=account,
                               on_bound=self.load_bindings)
        self.started = False

    @property
    def stats(self) -> Stats:
        return self.inbound.stats

    @property
    def directory(self) -> Directory:
        """Who is who: config's people and roles, and the contact ids bound to them."""
        return self.services.directory

    @directory.setter
    def directory(self, directory: Directory) -> None:
        self.services.directory = directory
        self.digests.directory = directory

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self, *, migrate: bool = True) -> None:
        """Bring the bot up: schema, config sync, recovery of unsent messages, transport, sender, jobs."""
        if migrate:
            await self.db.upgrade()
        now = self.clock.now()
        coverage = self.config.calendar.coverage_notice(now.astimezone(self.config.tz).date(), self.config.path)
        if coverage:  # working-day deadlines and quiet holidays would take next year's holidays for working days
            _LOGGER.warning("%s", coverage)
        await self.db.run(lambda s: GridRepository(s).sync(self.config.tree, self.config.people, now),
                          what="config sync")
        await self.load_bindings()
        await self.sender.recover()
        since = now - self.config.tickets.photo_window
        photos = await self.db.run(lambda s: MessageRepository(s).images_since(since), what="recent photos")
        window = now - self.config.notices.ack_window
        notices = await self.db.run(lambda s: NoticeRepository(s).rooms_with_notices_since(window),
                                    what="recent notices")
        self.rooms.remember(list(photos), list(notices))
        await self.digests.start(now)
        if self.cluster is not None:
            await self.cluster.start()
        recovered = await self.inbound.recover_inbox()
        if recovered:
            _LOGGER.warning("handled %d message(s) stored before a crash but not handled then", recovered)
        self.inbound.start()
        await self.transport.start(self.inbound.handle_event)
        await self.refresh_rooms()
        if self.cluster is not None:
            await self.cluster.rebalance()
        self.sender.start()
        self.jobs.add_interval("refresh_rooms", self.refresh_rooms, seconds=600, virtual=False)
        # `gridbot user unbind` (another process) and bindings made through another account reach us here
        self.jobs.add_interval("identity_bindings", self.load_bindings, seconds=60, virtual=False)
        self.chores.schedule(self.jobs)
        if self.cluster is not None:
            self.jobs.add_interval("cluster_heartbeat", self.cluster.heartbeat, seconds=self.cluster.tick)
            self.jobs.add_interval("cluster_rebalance", self.cluster.rebalance, seconds=self.cluster.tick,
                                   leader_only=True)
        self.jobs.start()
        self.started = True
        _LOGGER.info("gridbot up: %d nodes, %d rooms, transport %s", len(self.config.tree),
                     sum(1 for _ in self.config.tree.rooms()), self.transport.name)

    async def stop(self) -> None:
        """Shut down in reverse order; what is still queued stays in the outbox for next time."""
        self.jobs.stop()
        await self.sender.stop()
        if self.cluster is not None:
            await self.cluster.stop()
        await self.transport.stop()
        await self.inbound.stop()
        await self.db.dispose()
        self.started = False

    async def __aenter__(self) -> "GridBot":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- what the transport, the web side and tests call --------------------------------------------

    async def handle_event(self, event: Event) -> None:
        """The transport's sink (see Inbound.handle_event): returns once the message is stored."""
        await self.inbound.handle_event(event)

    async def idle(self) -> None:
        """Wait until every event received so far has been handled (for tests and replays)."""
        waiter = getattr(self.transport, "idle", None)
        if waiter is not None:
            await waiter()
        await self.inbound.idle()

    def busy(self) -> bool:
        """Received but not yet handled events remain."""
        return self.inbound.busy()

    async def settle(self, clock: VirtualClock, *, until: datetime | None = None, max_steps: int = 1_000_000) -> None:
        """On virtual time: handle everything, run jobs and due sends as the clock moves (bot.settle)."""
        await settle(self, clock, until=until, max_steps=max_steps)

    async def process_message(self, msg: IncomingMessage) -> RouteResult | None:
        """Store, parse and route one message; queue the replies. None for the bot's own echoes."""
        return (await self.inbound.process_messages([msg]))[0]

    async def process_messages(self, messages: list[IncomingMessage]) -> list[RouteResult | None]:
        return await self.inbound.process_messages(messages)

    async def handle_stored(self, items: list[Stored]) -> list[RouteResult]:
        return await self.inbound.handle_stored(items)

    async def recover_inbox(self) -> int:
        return await self.inbound.recover_inbox()

    def resolve_address(self, to: Address) -> Address:
        return self.rooms.resolve(to)

    async def run_job(self, name: str) -> int:
        """Run one feature job now (e.g. "ticket_deadlines", "notice_reminders", "digests")."""
        return await self.chores.run(name)

    async def load_bindings(self) -> None:
        """The contact ids bound to people (`gridbot user bind`), into the directory that identifies senders."""
        bindings = await self.db.run(lambda s: IdentityRepository(s).bindings(), what="loading bindings")
        self.directory.load_bindings(bindings)

    async def refresh_rooms(self) -> None:
        """Record the rooms the account is in; unknown ones are logged for the IT person to configure."""
        known = await self.rooms.refresh(self.transport, self.db, self.clock.now)
        if known is not None and self.cluster is not None:
            await self.cluster.report_reach(known)
