"""config.yaml → validated, frozen objects. Every error names the file, the line and the fix.

The YAML is read with line numbers kept for every mapping key and list item, then checked section by
section. All problems are collected (not just the first) and raised together as one ConfigError; the
bot never starts on a config with errors. Warnings (e.g. a node nobody answers for) are kept on the
Config for the log.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.domain.digest import Schedule
from bot.domain.grid import GridError, GridNode, GridTree, Person, RoleType, Room
from bot.domain.reach import DEFAULT_SAFETY_ADVICE, named_in_roster
from bot.domain.sla import DEFAULT_LIMITS, Limits, QuietHours, SlaPolicy, parse_duration

_LOGGER = logging.getLogger(__name__)
CACHE_VERSION = 2

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
_SECRET_KEYS = ("token", "password", "secret", "api_key", "apikey")
# a URL query parameter whose name ends like these carries a secret (?token=, ?api_key=, ?password=)
_SECRET_PARAMS = ("token", "key", "password", "secret", "passwd", "pwd")
_PATH_PARAMS = ("sslkey", "sslcert", "sslrootcert", "sslcrl")  # file names, not secrets
# Limits that keep a hostile or broken file from hanging or crashing the loader. A real 11,473-group
# zone config is about 4 MB, some 20 levels deep, and uses a few aliases per node at most.
MAX_CONFIG_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 100  # nested lists/mappings; libyaml's own composer overflows the C stack near 200,000
MAX_ALIAS_VALUES = 1_000_000  # values reached through *aliases, counted as if copied out ("billion laughs")
MAX_INT_DIGITS = 100


# --- the frozen result ---------------------------------------------------------------------------


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
    warnings: tuple[str, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def database_url(self) -> str:
        return self.database.resolved_url(self.base_dir)

    def open_database(self):  # type: ignore[no-untyped-def]
        """The deployment's database (URL and schema from config or environment)."""
        from storage.session import Database

        return Database(self.database_url(), schema=self.database.resolved_schema())


# --- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a config file, with where it is and what to do about it."""

    file: str
    line: int | None
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.message}"
        return f"{text}\n    fix: {self.fix}" if self.fix else text


class ConfigError(Exception):
    """The config has errors; the bot must not start."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


# --- YAML with line numbers --------------------------------------------------------------------


class _LinedDict(dict):
    """A mapping that remembers its own line and each key's line (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _LinedList(list):
    line: int = 0
    item_lines: list[int]


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int, first: int) -> None:
        super().__init__(key)
        self.key, self.line, self.first = key, line, first


class _Refused(Exception):
    """The loader stopped on a limit; carries the issue's line, message and fix."""

    def __init__(self, line: int | None, message: str, fix: str) -> None:
        super().__init__(message)
        self.line, self.message, self.fix = line, message, fix


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader that keeps line numbers, rejects duplicate keys and bounds depth and alias expansion.

    The node graph is composed here, without recursion, from libyaml's events: libyaml's composer
    recurses in C (deep nesting crashes the process) and knows no bound on what aliases expand to.
    """

    def get_single_node(self) -> yaml.Node | None:
        self.get_event()  # stream start
        document = None
        if not self.check_event(yaml.StreamEndEvent):
            document = self._compose_document()
        if not self.check_event(yaml.StreamEndEvent):
            event = self.get_event()
            raise yaml.composer.ComposerError("expected a single document in the stream", document.start_mark,
                                              "but found another document", event.start_mark)
        self.get_event()  # stream end
        return document

    def _compose_document(self) -> yaml.Node:
        self.get_event()  # document start
        anchors: dict[str, yaml.Node] = {}
        sizes: dict[int, int] = {}  # id(node) → how many values it stands for, aliases expanded
        stack: list[list[Any]] = []  # open collections: [node, pending mapping key, expanded size]
        through_aliases = 0
        while True:
            event = self.get_event()
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                node, _, size = stack.pop()
                node.end_mark = event.end_mark
                sizes[id(node)] = size
            elif isinstance(event, yaml.AliasEvent):
                node = anchors.get(event.anchor)  # type: ignore[arg-type]
                if node is None:
                    raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}",
                                                      event.start_mark)
                if isinstance(node, yaml.CollectionNode) and id(node) not in sizes:
                    raise _Refused(event.start_mark.line + 1, f"alias *{event.anchor} refers to a list or mapping "
                                   "it is part of", "write the values out instead of the alias")
                size = sizes.get(id(node), 1)
                through_aliases += size
                if through_aliases > MAX_ALIAS_VALUES:
                    raise _Refused(event.start_mark.line + 1, f"aliases (*name) expand to more than "
                                   f"{MAX_ALIAS_VALUES:,} values; refusing what looks like a YAML alias bomb",
                                   "write the values out, or use far fewer nested aliases")
                self._attach(stack, node)
            else:
                node = self._start_node(event, anchors)
                self._attach(stack, node)
                if isinstance(node, yaml.CollectionNode):
                    if len(stack) >= MAX_DEPTH:
                        raise _Refused(event.start_mark.line + 1, f"lists and mappings are nested more than "
                                       f"{MAX_DEPTH} deep", "flatten the structure; a config needs about 20 levels")
                    stack.append([node, None, 1])
                    continue
                size = 1
            if not stack:
                break
            stack[-1][2] += size
        self.get_event()  # document end
        return node

    def _start_node(self, event: yaml.Event, anchors: dict[str, yaml.Node]) -> yaml.Node:
        anchor = event.anchor  # type: ignore[attr-defined]
        if anchor is not None and anchor in anchors:
            raise yaml.composer.ComposerError(f"found duplicate anchor {anchor!r}; first occurrence",
                                              anchors[anchor].start_mark, "second occurrence", event.start_mark)
        tag = event.tag  # type: ignore[attr-defined]
        node: yaml.Node
        if isinstance(event, yaml.ScalarEvent):
            if tag is None or tag == "!":
                tag = self.resolve(yaml.ScalarNode, event.value, event.implicit)
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        elif isinstance(event, yaml.SequenceStartEvent):
            if tag is None or tag == "!":
                tag = self.resolve(yaml.SequenceNode, None, event.implicit)
            node = yaml.SequenceNode(tag, [], event.start_mark, None, flow_style=event.flow_style)
        elif isinstance(event, yaml.MappingStartEvent):
            if tag is None or tag == "!":
                tag = self.resolve(yaml.MappingNode, None, event.implicit)
            node = yaml.MappingNode(tag, [], event.start_mark, None, flow_style=event.flow_style)
        else:
            raise yaml.composer.ComposerError(None, None, f"unexpected {type(event).__name__}", event.start_mark)
        if anchor is not None:
            anchors[anchor] = node
        return node

    @staticmethod
    def _attach(stack: list[list[Any]], node: yaml.Node) -> None:
        if not stack:
            return
        frame = stack[-1]
        parent = frame[0]
        if isinstance(parent, yaml.SequenceNode):
            parent.value.append(node)
        elif frame[1] is None:
            frame[1] = node
        else:
            parent.value.append((frame[1], node))
            frame[1] = None


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LinedDict:
    loader.flatten_mapping(node)
    result = _LinedDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key = str(key) if not isinstance(key, str) else key
        line = key_node.start_mark.line + 1
        if key in result.key_lines:
            raise _DuplicateKey(key, line, result.key_lines[key])
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _LinedList:
    result = _LinedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_int(loader: _LineLoader, node: yaml.ScalarNode) -> int:
    """An integer of at most MAX_INT_DIGITS digits (Python refuses to read or print much longer ones)."""
    fix = "write a sensible number here, or quote it if it is text such as an id"
    line = node.start_mark.line + 1
    try:
        value = yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    except ValueError:
        raise _Refused(line, f"a number of {sum(c.isdigit() for c in node.value):,} digits is far too long",
                       fix) from None
    if abs(value) >= 10 ** MAX_INT_DIGITS:
        raise _Refused(line, f"a number of more than {MAX_INT_DIGITS} digits is far too long", fix)
    return value


_LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


# --- loading and checking ----------------------------------------------------------------------


def load_config(path: str | os.PathLike[str], *, cache: bool = True) -> Config:
    """Read and validate a config file; raise ConfigError naming every problem found.

    YAML parsing dominates for large trees (seconds for 11,000 groups), so a config that validated
    once is kept as JSON under data/.config-cache/ keyed by the file's hash and the code's cache
    version; an edited file misses the cache and is validated again in full.
    """
    file = Path(path)
    try:
        _check_size(file, file.stat().st_size)
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(str(file), None, "file not found",
                                       "pass --config with the path of your config.yaml")]) from None
    except OSError as exc:
        raise ConfigError([ConfigIssue(str(file), None, f"cannot read the file: {exc.strerror}",
                                       "check the path and its permissions")]) from None
    _check_size(file, len(raw))  # the file may have grown since stat(), or not be a regular file
    cache_file = _cache_path(file, raw) if cache else None
    if cache_file is not None:
        cached = _read_cache(cache_file, file)
        if cached is not None:
            return cached
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([ConfigIssue(str(file), line, f"not UTF-8 text ({exc.reason})",
                                       "save the file as UTF-8")]) from None
    config, data = _parse(text.removeprefix("\ufeff"), file)
    if cache_file is not None:
        _write_cache(cache_file, config, data)
    return config


def _cache_path(file: Path, raw: bytes) -> Path:
    digest = hashlib.sha256(raw + f"|v{CACHE_VERSION}|{file.resolve()}".encode()).hexdigest()[:24]
    return file.resolve().parent / "data" / ".config-cache" / f"{digest}.json"


@dataclass(frozen=True, slots=True)
class _Prebuilt:
    """The validated heavy part of a config (tree and people), as kept in the cache."""

    tiers: tuple[str, ...]
    roles: tuple[RoleType, ...]
    people: dict[str, Person]
    nodes: list[GridNode]
    warnings: tuple[str, ...]


_HEAVY_KEYS = ("tiers", "roles", "people", "nodes")


def _read_cache(cache_file: Path, file: Path) -> Config | None:
    """The cached tree plus the small sections validated again (they hold types JSON cannot)."""
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
        if data.get("version") != CACHE_VERSION:
            return None
        nodes = [GridNode(code=n[0], name=n[1], tier=n[2], depth=n[3], parent=n[4],
                          rooms=tuple(Room(node_code=n[0], topic=r[0], id=r[1], members=tuple(r[2])) for r in n[5]),
                          roles=tuple((role, tuple(keys)) for role, keys in n[6]))
                 for n in data["nodes"]]
        prebuilt = _Prebuilt(tuple(data["tiers"]), tuple(RoleType(**r) for r in data["roles"]),
                             {p["key"]: Person(**p) for p in data["people"]}, nodes, tuple(data["warnings"]))
        checker = _Checker(file)
        config = checker.check(_lined(data["rest"]), prebuilt=prebuilt)
        return None if checker.issues else config
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, GridError) as exc:
        _LOGGER.debug("ignoring unreadable config cache %s: %s", cache_file, exc)
        return None


def _write_cache(cache_file: Path, config: Config, raw: Mapping[str, Any]) -> None:
    data = {
        "version": CACHE_VERSION, "tiers": list(config.tree.tiers),
        "nodes": [[n.code, n.name, n.tier, n.depth, n.parent, [[r.topic, r.id, list(r.members)] for r in n.rooms],
                   [[role, list(keys)] for role, keys in n.roles]] for n in config.tree],
        "people": [dataclasses.asdict(p) for p in config.people.values()],
        "roles": [dataclasses.asdict(r) for r in config.roles.values()],
        "warnings": list(config.warnings),
        "rest": {key: value for key, value in raw.items() if key not in _HEAVY_KEYS},
    }
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(tmp, cache_file)
    except (OSError, TypeError, ValueError) as exc:  # a read-only disk only costs speed
        _LOGGER.debug("could not write config cache %s: %s", cache_file, exc)


def _lined(value: Any) -> Any:
    """Plain JSON data → the line-aware containers the checker expects (lines unknown)."""
    if isinstance(value, dict):
        result = _LinedDict((k, _lined(v)) for k, v in value.items())
        result.line, result.key_lines = 0, {}
        return result
    if isinstance(value, list):
        items = _LinedList(_lined(v) for v in value)
        items.line, items.item_lines = 0, [0] * len(items)
        return items
    return value


def _check_size(file: Path, size: int) -> None:
    if size > MAX_CONFIG_BYTES:
        raise ConfigError([ConfigIssue(str(file), None, f"the file is {size:,} bytes, over the limit of "
                                       f"{MAX_CONFIG_BYTES:,} bytes ({MAX_CONFIG_BYTES // 2**20} MB)",
                                       "check that this is the config file; a real one for a whole zone is about "
                                       "4 MB")])


def parse_config(text: str, file: Path | str = "config.yaml") -> Config:
    """Validate config text as if read from `file`."""
    if len(text) * 4 > MAX_CONFIG_BYTES:  # a UTF-8 character is at most 4 bytes: count only when it may matter
        _check_size(Path(file), len(text.encode("utf-8", "surrogatepass")))
    return _parse(text, Path(file))[0]


def _parse(text: str, file: Path) -> tuple[Config, Any]:
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as dup:
        raise ConfigError([ConfigIssue(str(file), dup.line, f"key {dup.key!r} appears twice in one mapping "
                                       f"(first at line {dup.first})", "keep only one of them")]) from None
    except _Refused as refused:
        raise ConfigError([ConfigIssue(str(file), refused.line, refused.message, refused.fix)]) from None
    except RecursionError:  # MAX_DEPTH should prevent it; never show a traceback for a config
        raise ConfigError([ConfigIssue(str(file), None, "lists and mappings are nested too deeply",
                                       f"flatten the structure to at most {MAX_DEPTH} levels")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigIssue(str(file), line, f"bad YAML: {problem}",
                                       "check indentation (spaces, not tabs), colons and quotes on this line")]) from None
    checker = _Checker(file)
    config = checker.check(data)
    if checker.issues:
        raise ConfigError(checker.issues)
    assert config is not None
    return config, data


_TOP_KEYS = ("deployment", "tiers", "roles", "people", "nodes", "database", "transport", "web", "lexicon", "tickets", "notices",
             "digests", "review")


class _Checker:
    """Walks the loaded YAML, collecting issues, and builds the Config when there are none."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.issues: list[ConfigIssue] = []
        self.warnings: list[str] = []

    # helpers
    def error(self, line: int | None, message: str, fix: str = "") -> None:
        self.issues.append(ConfigIssue(str(self.file), line, message, fix))

    def warn(self, line: int | None, message: str) -> None:
        where = f"{self.file}:{line}" if line else str(self.file)
        self.warnings.append(f"{where}: {message}")

    @staticmethod
    def line_of(mapping: Any, key: str | None = None) -> int | None:
        if isinstance(mapping, _LinedDict):
            if key is not None and key in mapping.key_lines:
                return mapping.key_lines[key]
            return mapping.line
        if isinstance(mapping, _LinedList):
            return mapping.line
        return None

    def known_keys(self, mapping: _LinedDict, allowed: tuple[str, ...], where: str) -> None:
        for key in mapping:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed keys here: {', '.join(allowed)}"
                self.error(self.line_of(mapping, key), f"unknown key {key!r} in {where}", hint)

    def mapping(self, value: Any, line: int | None, where: str) -> _LinedDict | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(line, f"{where} must be a mapping (key: value lines), not {_kind(value)}",
                       f"write {where} as indented 'key: value' lines")
            return None
        return value  # type: ignore[return-value]

    def string(self, mapping: _LinedDict, key: str, where: str, *, required: bool = False,
               default: str | None = None) -> str | None:
        value = mapping.get(key)
        if value is None:
            if required:
                self.error(mapping.line, f"{where} needs {key!r}", f"add a line '{key}: ...'")
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(self.line_of(mapping, key), f"{where}.{key} must be text, not {_kind(value)}",
                       "write a single value on this line")
            return default
        text = str(value).strip()
        if required and not text:
            self.error(self.line_of(mapping, key), f"{where}.{key} is empty", "give it a value")
            return default
        return text

    def integer(self, mapping: _LinedDict, key: str, where: str, default: int, low: int, high: int) -> int:
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.error(self.line_of(mapping, key), f"{where}.{key} must be a whole number from {low} to {high}, "
                       f"not {value!r}", f"set {key}: {default}")
            return default
        return value

    def no_secret(self, mapping: _LinedDict, where: str) -> None:
        for key, value in mapping.items():
            if any(s in key.lower() for s in _SECRET_KEYS) and not key.lower().endswith("_env") and value:
                self.error(self.line_of(mapping, key), f"{where}.{key}: secrets must not be written in the config file",
                           f"remove it and set the environment variable instead (e.g. {key}_env: NAME)")

    def url_secret(self, url: str, line: int | None, where: str, fix: str) -> bool:
        """Report a password in the URL's user part or a secret-named query parameter; True if one was found."""
        try:
            parts = urlsplit(url if "://" in url else f"//{url}")
            password = parts.password
        except ValueError:  # not a URL after all; fields that must be URLs check that themselves
            return False
        if password:
            self.error(line, f"{where} contains a password (user:password@)", fix)
            return True
        names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True) if _is_secret_param(name)]
        if names:
            self.error(line, f"{where} carries a secret in its query ({', '.join(f'{n}=' for n in names)})", fix)
            return True
        return False

    def no_secret_in_urls(self, data: _LinedDict) -> None:
        """Every URL in the file (database.url apart, checked with its section): no passwords, no tokens."""
        fix = "remove it from the URL and keep it in an environment variable; secrets must not be written in the file"
        token_fix = ("remove it: the token goes in the environment variable named by token_env "
                     "(default WECHATY_PUPPET_SERVICE_TOKEN)")
        stack: list[tuple[Any, str]] = [(data, "")]
        while stack:
            container, where = stack.pop()
            if isinstance(container, dict):
                items = [(f"{where}.{k}" if where else str(k), v, self.line_of(container, k), str(k))
                         for k, v in container.items()]
            else:
                items = [(f"{where}[{i}]", v, line, "") for i, (v, line) in
                         enumerate(zip(container, _item_lines(container)))]
            for path, value, line, key in items:
                if isinstance(value, (dict, list)):
                    stack.append((value, path))
                elif isinstance(value, str) and path != "database.url" and ("://" in value or key == "endpoint"):
                    self.url_secret(value, line, path, token_fix if path.startswith("transport") else fix)

    # sections
    def check(self, data: Any, *, prebuilt: "_Prebuilt | None" = None) -> Config | None:
        """Validate every section; `prebuilt` supplies an already validated tree (from the cache)."""
        if data is None:
            self.error(1, "the config file is empty", "start from the sample config.yaml in the repository")
            return None
        if not isinstance(data, _LinedDict):
            self.error(1, f"the config must be a mapping at the top level, not {_kind(data)}",
                       "start from the sample config.yaml in the repository")
            return None
        self.known_keys(data, _TOP_KEYS, "the top level")
        self.no_secret_in_urls(data)
        name, timezone = self.check_deployment(data)
        if prebuilt is None:
            tiers = self.check_tiers(data)
            roles = self.check_roles(data)
            people = self.check_people(data)
            nodes = self.check_nodes(data, tiers, roles, people)
        else:
            tiers, roles, people, nodes = prebuilt.tiers, prebuilt.roles, prebuilt.people, prebuilt.nodes
            self.warnings.extend(prebuilt.warnings)
        database = self.check_database(data)
        transport = self.check_transport(data)
        web = self.check_web(data)
        lexicon = self.check_lexicon(data)
        tickets = self.check_tickets(data, timezone, roles)
        notices = self.check_notices(data, timezone)
        digests = self.check_digests(data, roles)
        review = self.check_review(data)
        if self.issues:
            return None
        try:
            tree = GridTree(tiers, nodes)
        except GridError as exc:  # checks above should have caught it; keep the message anyway
            self.error(self.line_of(data, "nodes"), str(exc), "fix the node tree")
            return None
        self.warn_unidentified_role_holders(data, tree, people)
        self.warn_unreachable_handlers(data, tree, people, roles)
        if digests.schedules:
            self.warn_unreachable_digest_readers(data, tree, people, digests)
        section = data.get("transport")
        for account in transport.accounts:
            for code in account.sim_nodes:
                if code not in tree:
                    self.error(self.line_of(section, "accounts"), f"account {account.name!r}: sim_nodes names "
                               f"unknown node {code!r}", "use node codes from nodes:")
        if self.issues:
            return None
        if digests.room and tree.room(topic=digests.room) is None and tree.room(room_id=digests.room) is None:
            section = data.get("digests")
            self.error(self.line_of(section, "room"), f"digests.room {digests.room!r} is not a group of any node",
                       "name a group listed under a node's rooms (its topic), e.g. the community's work group")
            return None
        return Config(
            path=self.file, name=name, timezone=timezone, tree=tree, people=people,
            roles={r.name: r for r in roles}, database=database, transport=transport, web=web,
            lexicon=lexicon, tickets=tickets, notices=notices, digests=digests,
            review=review, warnings=tuple(self.warnings),
        )

    def duration(self, mapping: _LinedDict, key: str, where: str, default: timedelta) -> timedelta:
        value = mapping.get(key)
        if value is None:
            return default
        try:
            result = parse_duration(value)
        except ValueError:
            self.error(self.line_of(mapping, key), f"{where}.{key} is not a duration: {value!r}",
                       "write a number with a unit: 10m, 4h, 3d")
            return default
        if result <= timedelta(0):
            self.error(self.line_of(mapping, key), f"{where}.{key} must be longer than zero", "e.g. 30m")
            return default
        return result

    def check_notices(self, data: _LinedDict, timezone: str) -> NoticeConfig:
        section = self.mapping(data.get("notices"), self.line_of(data, "notices"), "notices")
        if section is None:
            return NoticeConfig()
        self.known_keys(section, ("remind_before", "threshold", "mention_chunk", "ack_window", "quiet_hours",
                                  "failure_report_every"), "notices")
        quiet = None
        if section.get("quiet_hours") is False:  # YAML reads a bare `off` / `no` as false
            section["quiet_hours"] = "off"
        quiet_text = self.string(section, "quiet_hours", "notices")
        if quiet_text:
            try:
                quiet = QuietHours.parse(quiet_text, timezone)
            except ValueError:
                self.error(self.line_of(section, "quiet_hours"), f"notices.quiet_hours is not a time window: "
                           f"{quiet_text!r}", "write e.g. quiet_hours: \"22:00-07:00\" (or off)")
        threshold = section.get("threshold", 0.8)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            self.error(self.line_of(section, "threshold"), "notices.threshold must be a number from 0 to 1",
                       "e.g. threshold: 0.8 (remind groups where fewer than 80 % acknowledged)")
            threshold = 0.8
        return NoticeConfig(
            remind_before=self.duration(section, "remind_before", "notices", timedelta(hours=2)),
            threshold=float(threshold),
            mention_chunk=self.integer(section, "mention_chunk", "notices", 20, 1, 100),
            ack_window=self.duration(section, "ack_window", "notices", timedelta(days=7)), quiet=quiet,
            failure_report_every=self.duration(section, "failure_report_every", "notices", timedelta(minutes=5)))

    def fraction(self, mapping: _LinedDict, key: str, where: str, default: float) -> float:
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            self.error(self.line_of(mapping, key), f"{where}.{key} must be a number from 0 to 1",
                       f"e.g. {key}: {default}")
            return default
        return float(value)

    def check_review(self, data: _LinedDict) -> ReviewConfig:
        section = self.mapping(data.get("review"), self.line_of(data, "review"), "review")
        if section is None:
            return ReviewConfig()
        self.known_keys(section, ("ticket", "review", "urgent_review", "gather_every"), "review")
        default = ReviewConfig()
        ticket = self.fraction(section, "ticket", "review", default.ticket)
        review = self.fraction(section, "review", "review", default.review)
        urgent = self.fraction(section, "urgent_review", "review", default.urgent_review)
        if review > ticket:
            self.error(self.line_of(section, "review"), f"review.review ({review}) is above review.ticket ({ticket})",
                       "the review threshold must not be above the ticket threshold, e.g. ticket: 0.75, review: 0.35")
        return ReviewConfig(ticket=ticket, review=review, urgent_review=urgent,
                            gather_every=self.duration(section, "gather_every", "review", default.gather_every))

    def warn_unidentified_role_holders(self, data: _LinedDict, tree: GridTree, people: Any) -> None:
        """Only a WeChat id identifies a sender: name who holds a role but could not use it."""
        missing: dict[str, list[str]] = {}
        for node in tree:
            for role, keys in node.roles:
                for key in keys:
                    if key in people and not people[key].wechat_id:
                        missing.setdefault(key, []).append(f"{role}@{node.code}")
        if missing:
            names = "、".join(f"{people[key].name} ({key}: {', '.join(roles)})" for key, roles in sorted(missing.items()))
            self.warn(self.line_of(data, "people"),
                      f"{names} hold a role but have no wechat_id: the bot cannot recognise them, so their "
                      f"commands are refused; add wechat_id: under people:, or run `gridbot user bind KEY` "
                      f"and have them send the code to the bot privately")

    def warn_unreachable_handlers(self, data: _LinedDict, tree: GridTree, people: Any,
                                  roles: tuple[RoleType, ...]) -> None:
        """A handler with no wechat_id and in no configured group's members cannot be told of a ticket."""
        handling = {r.name for r in roles if r.handles}
        rosters = [room.members for room in tree.rooms() if room.members]
        nowhere = sorted({key for node in tree for role, keys in node.roles if role in handling for key in keys
                          if key in people and not people[key].wechat_id
                          and not any(named_in_roster(people[key], members) for members in rosters)})
        if nowhere:
            names = "、".join(f"{people[key].name} ({key})" for key in nowhere)
            self.warn(self.line_of(data, "people"),
                      f"{names} handle tickets but can be reached nowhere (no wechat_id, and in no group's members): "
                      f"until the bot sees them in a group or they bind, their tickets go to the next handler up; "
                      f"add wechat_id: under people:, or list them in the members of their group")

    def warn_unreachable_digest_readers(self, data: _LinedDict, tree: GridTree, people: Any,
                                        digests: DigestConfig) -> None:
        """Digests go to private chats by WeChat id: say who would get none."""
        roles = set(digests.leader_roles) | (set() if digests.room else set(digests.secretary_roles))
        missing = sorted({people[key].name for node in tree for role, keys in node.roles if role in roles
                          for key in keys if key in people and not people[key].wechat_id})
        if missing:
            self.warn(self.line_of(data, "digests") or self.line_of(data, "people"),
                      f"{'、'.join(missing)} will get no digest: digests go to private chats, which need a "
                      f"wechat_id under people:")

    def check_digests(self, data: _LinedDict, roles: tuple[RoleType, ...]) -> DigestConfig:
        section = self.mapping(data.get("digests"), self.line_of(data, "digests"), "digests")
        if section is None:
            return DigestConfig()
        self.known_keys(section, ("daily", "weekly", "grace", "secretary_roles", "leader_roles", "room", "chart",
                                  "charts_dir", "skip_empty"), "digests")
        defaults = DigestConfig()
        schedules = []
        for key, kind, example in (("daily", "day", '"18:00"'), ("weekly", "week", '"mon 08:00"')):
            value = section.get(key, "18:00" if kind == "day" else "mon 08:00")
            if value is False or str(value).strip().lower() in ("off", "none", ""):
                continue
            try:
                schedules.append(Schedule.parse(kind, str(value)))
            except ValueError:
                self.error(self.line_of(section, key), f"digests.{key} is not a schedule: {value!r}",
                           f"write e.g. {key}: {example} (or off)")
        role_names = {r.name for r in roles}
        chosen: dict[str, tuple[str, ...]] = {}
        for key in ("secretary_roles", "leader_roles"):
            value = section.get(key, list(getattr(defaults, key)))
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list):
                self.error(self.line_of(section, key), f"digests.{key} must be a list of roles",
                           f"write e.g. {key}: [网格长]")
                value = []
            for role in value:
                if str(role) not in role_names:
                    self.error(self.line_of(section, key), f"digests.{key} names unknown role {role!r}",
                               "use a role defined under roles: (e.g. 社区书记, 网格长)")
            chosen[key] = tuple(str(r) for r in value)
        room = self.string(section, "room", "digests")
        chart = section.get("chart", True)
        if not isinstance(chart, bool):
            self.error(self.line_of(section, "chart"), "digests.chart must be true or false", "write chart: true")
            chart = True
        skip_empty = section.get("skip_empty", True)
        if not isinstance(skip_empty, bool):
            self.error(self.line_of(section, "skip_empty"), "digests.skip_empty must be true or false",
                       "write skip_empty: true")
            skip_empty = True
        return DigestConfig(
            schedules=tuple(schedules), grace=self.duration(section, "grace", "digests", timedelta(hours=6)),
            secretary_roles=chosen["secretary_roles"], leader_roles=chosen["leader_roles"], room=room or None,
            chart=chart, charts_dir=self.string(section, "charts_dir", "digests", default="data/charts")
            or "data/charts", skip_empty=skip_empty)

    def check_tickets(self, data: _LinedDict, timezone: str, roles: tuple[RoleType, ...]) -> TicketConfig:
        section = self.mapping(data.get("tickets"), self.line_of(data, "tickets"), "tickets")
        quiet_default = QuietHours(timezone=timezone)
        if section is None:
            return TicketConfig(sla=SlaPolicy(quiet=quiet_default))
        keys = ("first_number", "merge_window", "photo_window", "auto_close_after", "reopen_window",
                "withdraw_window", "me_too_window", "relay", "routing", "deadlines", "category_deadlines",
                "quiet_hours", "attachments_dir", "safety_advice", "escalation_batch")
        self.known_keys(section, keys, "tickets")
        first = self.integer(section, "first_number", "tickets", 1001, 1, 10_000_000)
        merge = self.duration(section, "merge_window", "tickets", timedelta(hours=12))
        photo = self.duration(section, "photo_window", "tickets", timedelta(minutes=5))
        auto_close = self.duration(section, "auto_close_after", "tickets", timedelta(days=3))
        reopen = self.duration(section, "reopen_window", "tickets", timedelta(days=3))
        withdraw = self.duration(section, "withdraw_window", "tickets", timedelta(hours=2))
        me_too = self.duration(section, "me_too_window", "tickets", timedelta(minutes=30))
        for key, value, most, fix in (("reopen_window", reopen, timedelta(days=30), "30d"),
                                      ("withdraw_window", withdraw, timedelta(days=2), "2d"),
                                      ("me_too_window", me_too, timedelta(hours=12), "12h")):
            if value > most:
                self.error(self.line_of(section, key), f"tickets.{key} is too long: {section.get(key)!r}",
                           f"write {key}: {fix} or less")
        relay = self.string(section, "relay", "tickets", default="all") or "all"
        if relay not in RELAY_SCOPES:
            self.error(self.line_of(section, "relay"), f"tickets.relay must be one of {', '.join(RELAY_SCOPES)}",
                       "write relay: all")
            relay = "all"
        routing: dict[str, str] = {}
        routing_map = self.mapping(section.get("routing"), self.line_of(section, "routing"), "tickets.routing")
        role_names = {r.name for r in roles}
        for category, role in (routing_map or {}).items():
            line = self.line_of(routing_map, category)
            if category not in CATEGORIES:
                self.error(line, f"unknown category {category!r} in tickets.routing",
                           f"use one of: {', '.join(CATEGORIES)}")
            elif str(role) not in role_names:
                self.error(line, f"tickets.routing.{category} names unknown role {role!r}",
                           "use a role defined under roles: (e.g. 民警)")
            else:
                routing[category] = str(role)
        limits = dict(DEFAULT_LIMITS)
        deadlines = self.mapping(section.get("deadlines"), self.line_of(section, "deadlines"), "tickets.deadlines")
        for urgency, spec in (deadlines or {}).items():
            line = self.line_of(deadlines, urgency)
            if urgency not in DEFAULT_LIMITS:
                self.error(line, f"unknown urgency {urgency!r} in tickets.deadlines", "use urgent, normal or low")
                continue
            spec_map = self.mapping(spec, line, f"tickets.deadlines.{urgency}")
            if spec_map is None:
                continue
            self.known_keys(spec_map, ("accept", "resolve"), f"tickets.deadlines.{urgency}")
            base = DEFAULT_LIMITS[urgency]
            limits[urgency] = Limits(self.duration(spec_map, "accept", f"deadlines.{urgency}", base.accept),
                                     self.duration(spec_map, "resolve", f"deadlines.{urgency}", base.resolve))
        by_category: dict[str, dict[str, timedelta]] = {}
        per_cat = self.mapping(section.get("category_deadlines"), self.line_of(section, "category_deadlines"),
                               "tickets.category_deadlines")
        for category, spec in (per_cat or {}).items():
            line = self.line_of(per_cat, category)
            if category not in CATEGORIES:
                self.error(line, f"unknown category {category!r} in tickets.category_deadlines",
                           f"use one of: {', '.join(CATEGORIES)}")
                continue
            spec_map = self.mapping(spec, line, f"tickets.category_deadlines.{category}")
            if spec_map is None:
                continue
            self.known_keys(spec_map, ("accept", "resolve"), f"tickets.category_deadlines.{category}")
            by_category[category] = {k: self.duration(spec_map, k, f"category_deadlines.{category}", timedelta(1))
                                     for k in ("accept", "resolve") if k in spec_map}
        quiet = quiet_default
        if section.get("quiet_hours") is False:  # YAML reads a bare `off` / `no` as false
            section["quiet_hours"] = "off"
        quiet_text = self.string(section, "quiet_hours", "tickets")
        if quiet_text:
            try:
                quiet = QuietHours.parse(quiet_text, timezone)
            except ValueError:
                self.error(self.line_of(section, "quiet_hours"), f"tickets.quiet_hours is not a time window: "
                           f"{quiet_text!r}", "write e.g. quiet_hours: \"22:00-07:00\" (or off)")
        attachments = self.string(section, "attachments_dir", "tickets", default="data/attachments")
        advice = dict(DEFAULT_SAFETY_ADVICE)
        advice_map = self.mapping(section.get("safety_advice"), self.line_of(section, "safety_advice"),
                                  "tickets.safety_advice")
        for key, line in (advice_map or {}).items():
            if line is None or line is False or not str(line).strip():
                advice.pop(str(key), None)  # `燃气: ""` silences a default
            elif not isinstance(line, (str, int, float)):
                self.error(self.line_of(advice_map, key), f"tickets.safety_advice.{key} must be one short line",
                           "write e.g. 燃气: \"开窗通风，不要开关电器，打燃气抢修或119\"")
            else:
                advice[str(key)] = str(line).strip()[:80]
        if section.get("escalation_batch") in (0, False, "0", "off"):
            batch = timedelta(0)
        else:
            batch = self.duration(section, "escalation_batch", "tickets", timedelta(minutes=5))
        return TicketConfig(first_number=first, merge_window=merge, photo_window=photo, auto_close_after=auto_close,
                            reopen_window=reopen, withdraw_window=withdraw, me_too_window=me_too,
                            relay=relay, routing=routing, sla=SlaPolicy(limits, by_category, quiet),
                            attachments_dir=attachments or "data/attachments", safety_advice=advice,
                            escalation_batch=batch)

    def check_deployment(self, data: _LinedDict) -> tuple[str, str]:
        section = self.mapping(data.get("deployment"), self.line_of(data, "deployment"), "deployment")
        if section is None:
            return "gridbot", "Asia/Shanghai"
        self.known_keys(section, ("name", "timezone"), "deployment")
        name = self.string(section, "name", "deployment", default="gridbot") or "gridbot"
        tz = self.string(section, "timezone", "deployment", default="Asia/Shanghai") or "Asia/Shanghai"
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            self.error(self.line_of(section, "timezone"), f"unknown time zone {tz!r}", "use e.g. Asia/Shanghai")
            tz = "Asia/Shanghai"
        return name, tz

    def check_tiers(self, data: _LinedDict) -> tuple[str, ...]:
        value = data.get("tiers")
        line = self.line_of(data, "tiers")
        if value is None:
            return DEFAULT_TIERS
        if not isinstance(value, list) or not value:
            self.error(line, "tiers must be a non-empty list of tier names, top first",
                       "write e.g. tiers: [社区, 网格, 微网格, 楼道, 房东群]")
            return DEFAULT_TIERS
        tiers = tuple(str(t).strip() for t in value)
        if len(tiers) > MAX_TIERS:
            self.error(line, f"{len(tiers)} tiers given; at most {MAX_TIERS} are supported",
                       "merge some tiers so the tree is at most 6 deep")
        seen: set[str] = set()
        for tier in tiers:
            if not tier:
                self.error(line, "a tier name is empty", "give every tier a name")
            elif tier in seen:
                self.error(line, f"tier {tier!r} is listed twice", "list each tier once, top first")
            seen.add(tier)
        return tiers

    def check_roles(self, data: _LinedDict) -> tuple[RoleType, ...]:
        section = self.mapping(data.get("roles"), self.line_of(data, "roles"), "roles")
        if section is None:
            return DEFAULT_ROLES
        roles = {r.name: r for r in DEFAULT_ROLES}
        for name, spec in section.items():
            line = self.line_of(section, name)
            if spec is None:
                roles[name] = RoleType(name)
                continue
            spec_map = self.mapping(spec, line, f"roles.{name}")
            if spec_map is None:
                continue
            self.known_keys(spec_map, ("leads", "handles"), f"roles.{name}")
            flags = {}
            for flag in ("leads", "handles"):
                value = spec_map.get(flag, True)
                if not isinstance(value, bool):
                    self.error(self.line_of(spec_map, flag), f"roles.{name}.{flag} must be true or false",
                               f"write {flag}: true")
                    value = True
                flags[flag] = value
            roles[name] = RoleType(name, **flags)
        return tuple(roles.values())

    def check_people(self, data: _LinedDict) -> dict[str, Person]:
        section = self.mapping(data.get("people"), self.line_of(data, "people"), "people")
        people: dict[str, Person] = {}
        if section is None:
            return people
        for key, spec in section.items():
            line = self.line_of(section, key)
            if isinstance(spec, str):
                people[key] = Person(key=key, name=spec.strip())
                continue
            spec_map = self.mapping(spec, line, f"people.{key}")
            if spec_map is None:
                self.error(line, f"person {key!r} has no details", "give at least name: or wechat_id:")
                continue
            self.known_keys(spec_map, ("name", "wechat_id", "phone"), f"people.{key}")
            name = self.string(spec_map, "name", f"people.{key}")
            wechat_id = self.string(spec_map, "wechat_id", f"people.{key}")
            phone = self.string(spec_map, "phone", f"people.{key}")
            if not name and not wechat_id:
                self.error(line, f"person {key!r} has neither a name nor a wechat_id",
                           "add name: (their WeChat display name) and/or wechat_id:")
                continue
            people[key] = Person(key=key, name=name or wechat_id or key, wechat_id=wechat_id, phone=phone)
        return people

    def check_nodes(self, data: _LinedDict, tiers: tuple[str, ...], roles: tuple[RoleType, ...],
                    people: dict[str, Person]) -> list[GridNode]:
        value = data.get("nodes")
        if value is None:
            self.error(data.line, "the config has no 'nodes': the grid tree is missing",
                       "add nodes: with the top node (e.g. your community) and its children")
            return []
        if not isinstance(value, list):
            self.error(self.line_of(data, "nodes"), "nodes must be a list ('- code: ...' items)",
                       "start each node with '- code:'")
            return []
        role_names = {r.name for r in roles}
        handling = {r.name for r in roles if r.handles}
        nodes: list[GridNode] = []
        code_lines: dict[str, int | None] = {}
        room_owner: dict[tuple[str, str], tuple[str, int | None]] = {}
        node_keys = ("code", "name", "tier", "rooms", "roles", "children")
        # iterative walk: (item, line, parent code, parent depth)
        stack: list[tuple[Any, int | None, str | None, int]] = [
            (item, line, None, -1) for item, line in reversed(list(zip(value, _item_lines(value))))
        ]
        while stack:
            item, line, parent, parent_depth = stack.pop()
            node_map = self.mapping(item, line, "a node")
            if node_map is None:
                if item is None:
                    self.error(line, "empty node entry", "remove the lone '-' or fill in code/name/tier")
                continue
            self.known_keys(node_map, node_keys, "a node")
            code = self.string(node_map, "code", "node", required=True)
            where = f"node {code}" if code else "node"
            name = self.string(node_map, "name", where, required=True)
            tier = self.string(node_map, "tier", where, required=True)
            node_line = node_map.line
            if code:
                if not CODE_PATTERN.match(code):
                    self.error(self.line_of(node_map, "code"), f"node code {code!r} has characters codes may not use",
                               "use letters, digits, '-', '_' or '.', e.g. JQS-03-07")
                if code in code_lines:
                    self.error(self.line_of(node_map, "code"), f"duplicate node code {code!r} "
                               f"(first defined at line {code_lines[code]})", "give every node its own code")
                    code = None
                else:
                    code_lines[code] = node_line
            depth = parent_depth + 1
            if tier:
                if tier not in tiers:
                    self.error(self.line_of(node_map, "tier"), f"unknown tier {tier!r} on {where}",
                               f"use one of: {', '.join(tiers)}")
                else:
                    depth = tiers.index(tier)
                    if depth <= parent_depth:
                        self.error(self.line_of(node_map, "tier"),
                                   f"tier out of order: {where} is a {tier} under a {tiers[parent_depth]}",
                                   f"a child must be of a lower tier than its parent ({' → '.join(tiers)})")
            rooms = self.check_rooms(node_map, code or "?", where, room_owner)
            node_roles = self.check_node_roles(node_map, where, role_names, people)
            if code and name and tier and tier in tiers:
                nodes.append(GridNode(code=code, name=name, tier=tier, depth=depth, parent=parent,
                                      rooms=rooms, roles=node_roles))
                if not any(r in handling for r, holders in node_roles if holders) and parent is not None:
                    self.warn(node_line, f"nobody on {where} has a handling role; its parent answers for it")
            children = node_map.get("children")
            if children is not None:
                if not isinstance(children, list):
                    self.error(self.line_of(node_map, "children"), f"children of {where} must be a list",
                               "start each child with '- code:'")
                    continue
                stack.extend((child, cl, code, depth)
                             for child, cl in reversed(list(zip(children, _item_lines(children)))))
        if not nodes and not self.issues:
            self.error(self.line_of(data, "nodes"), "nodes is empty", "add at least the top node")
        return nodes

    def check_rooms(self, node_map: _LinedDict, code: str, where: str,
                    owner: dict[tuple[str, str], tuple[str, int | None]]) -> tuple[Room, ...]:
        value = node_map.get("rooms")
        if value is None:
            return ()
        if not isinstance(value, list):
            self.error(self.line_of(node_map, "rooms"), f"rooms of {where} must be a list",
                       "write '- topic: <group name>' items")
            return ()
        rooms: list[Room] = []
        for item, line in zip(value, _item_lines(value)):
            if isinstance(item, str):
                item_map: _LinedDict | None = _LinedDict(topic=item)
                item_map.line, item_map.key_lines = line or 0, {"topic": line or 0}
            else:
                item_map = self.mapping(item, line, f"a room of {where}")
            if item_map is None:
                continue
            self.known_keys(item_map, ("topic", "id", "members"), f"a room of {where}")
            topic = self.string(item_map, "topic", f"room of {where}")
            room_id = self.string(item_map, "id", f"room of {where}")
            if not topic and not room_id:
                self.error(line, f"a room of {where} has neither topic nor id",
                           "give the group's name as topic: (and its id: if known)")
                continue
            for kind, key in (("topic", topic), ("id", room_id)):
                if not key:
                    continue
                if (kind, key) in owner:
                    first_code, first_line = owner[(kind, key)]
                    self.error(self.line_of(item_map, kind),
                               f"room {kind} {key!r} is claimed by {where} and by node {first_code} (line {first_line})",
                               "a WeChat group belongs to one node: remove it from one of them")
                else:
                    owner[(kind, key)] = (code, self.line_of(item_map, kind))
            members = item_map.get("members") or []
            if not isinstance(members, list) or not all(isinstance(m, (str, int)) for m in members):
                self.error(self.line_of(item_map, "members"), f"members of room {topic or room_id} must be a list of names",
                           "write members: [\"3-201 王芳\", \"3-302 李强\"]")
                members = []
            rooms.append(Room(node_code=code, topic=topic, id=room_id, members=tuple(str(m) for m in members)))
        return tuple(rooms)

    def check_node_roles(self, node_map: _LinedDict, where: str, role_names: set[str],
                         people: dict[str, Person]) -> tuple[tuple[str, tuple[str, ...]], ...]:
        value = node_map.get("roles")
        if value is None:
            return ()
        section = self.mapping(value, self.line_of(node_map, "roles"), f"roles of {where}")
        if section is None:
            return ()
        result: list[tuple[str, tuple[str, ...]]] = []
        for role, holders in section.items():
            line = self.line_of(section, role)
            if role not in role_names:
                close = difflib.get_close_matches(role, sorted(role_names), n=1)
                self.error(line, f"unknown role {role!r} on {where}",
                           f"did you mean {close[0]!r}?" if close else "define it under roles: at the top level")
                continue
            keys = [holders] if isinstance(holders, str) else holders
            if not isinstance(keys, list):
                self.error(line, f"{role} of {where} must be a person key or a list of them",
                           f"write {role}: [person_key]")
                continue
            valid: list[str] = []
            for key in keys:
                key = str(key)
                if key not in people:
                    close = difflib.get_close_matches(key, list(people), n=1)
                    self.error(line, f"{role} of {where} names {key!r}, who is not defined under people:",
                               f"did you mean {close[0]!r}?" if close else f"add {key}: {{name: ...}} under people:")
                else:
                    valid.append(key)
            result.append((role, tuple(valid)))
        return tuple(result)

    def check_database(self, data: _LinedDict) -> DatabaseConfig:
        section = self.mapping(data.get("database"), self.line_of(data, "database"), "database")
        if section is None:
            return DatabaseConfig()
        self.known_keys(section, ("url", "url_env", "schema"), "database")
        url = self.string(section, "url", "database", default=DEFAULT_DATABASE_URL) or DEFAULT_DATABASE_URL
        url_env = self.string(section, "url_env", "database", default="GRIDBOT_DATABASE_URL") or "GRIDBOT_DATABASE_URL"
        if not (url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+asyncpg://")):
            self.error(self.line_of(section, "url"), f"unsupported database URL {url!r}",
                       "use sqlite+aiosqlite:///data/gridbot.db or postgresql+asyncpg://user@host/db")
        elif (problem := _unreadable_database_url(url)) is not None:
            self.error(self.line_of(section, "url"), f"database.url cannot be read as a URL: {problem}",
                       "write e.g. postgresql+asyncpg://gridbot@db.example.org:5432/gridbot "
                       "(a port is a number; IPv6 hosts go in [brackets])")
        else:
            self.url_secret(url, self.line_of(section, "url"), "database.url",
                            f"remove it from the file and put the whole URL in the environment variable {url_env}")
        schema = self.string(section, "schema", "database")
        if schema and not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", schema):
            self.error(self.line_of(section, "schema"), f"database.schema {schema!r} is not a plain schema name",
                       "use letters, digits and _ (e.g. schema: gridbot)")
            schema = None
        return DatabaseConfig(url=url, url_env=url_env, schema=schema or None)

    def check_transport(self, data: _LinedDict) -> TransportConfig:
        section = self.mapping(data.get("transport"), self.line_of(data, "transport"), "transport")
        if section is None:
            return TransportConfig()
        self.known_keys(section, ("kind", "send_budget", "endpoint", "token_env", "max_attempts", "token",
                                  "accounts", "sim_log", "offline_max_age"), "transport")
        self.no_secret(section, "transport")
        kind = self.string(section, "kind", "transport", default="simulator") or "simulator"
        if kind not in TRANSPORT_KINDS:
            self.error(self.line_of(section, "kind"), f"unknown transport {kind!r}",
                       f"use one of: {', '.join(TRANSPORT_KINDS)}")
        budget = self.send_budget(section, "transport.send_budget", SendBudget())
        accounts = self.check_accounts(section, budget)
        endpoint = self.string(section, "endpoint", "transport")
        token_env = self.string(section, "token_env", "transport",
                                default="WECHATY_PUPPET_SERVICE_TOKEN") or "WECHATY_PUPPET_SERVICE_TOKEN"
        attempts = self.integer(section, "max_attempts", "transport", 5, 1, 100)
        offline_max_age = self.duration(section, "offline_max_age", "transport", timedelta(hours=24))
        if offline_max_age < timedelta(minutes=1) or offline_max_age > timedelta(days=30):
            self.error(self.line_of(section, "offline_max_age"),
                       "transport.offline_max_age must be between 1 minute and 30 days",
                       "e.g. 24h: how long queued messages wait for a lost WeChat connection")
            offline_max_age = timedelta(hours=24)
        return TransportConfig(kind=kind, send_budget=budget, endpoint=endpoint, token_env=token_env,
                               max_attempts=attempts, offline_max_age=offline_max_age, accounts=accounts,
                               sim_log=self.string(section, "sim_log", "transport") or None)

    def send_budget(self, section: _LinedDict, where: str, default: SendBudget) -> SendBudget:
        budget_map = self.mapping(section.get("send_budget"), self.line_of(section, "send_budget"), where)
        if budget_map is None:
            return default
        self.known_keys(budget_map, ("per_minute", "jitter"), where)
        per_minute = self.integer(budget_map, "per_minute", "send_budget", default.per_minute, 1, 100_000)
        jitter = budget_map.get("jitter", default.jitter)
        if isinstance(jitter, bool) or not isinstance(jitter, (int, float)) or not 0 <= jitter <= 1:
            self.error(self.line_of(budget_map, "jitter"), "send_budget.jitter must be a number from 0 to 1",
                       "set jitter: 0.3")
            jitter = default.jitter
        return SendBudget(per_minute=per_minute, jitter=float(jitter))

    def check_accounts(self, section: _LinedDict, budget: SendBudget) -> tuple[AccountConfig, ...]:
        value = section.get("accounts")
        if value is None:
            return ()
        if not isinstance(value, list) or not value:
            self.error(self.line_of(section, "accounts"), "transport.accounts must be a list of accounts",
                       "write e.g. accounts: [{name: bot-a, token_env: GRIDBOT_TOKEN_A}]")
            return ()
        accounts: list[AccountConfig] = []
        for item, line in zip(value, _item_lines(value)):
            account = self.mapping(item, line, "transport.accounts[]")
            if account is None:
                continue
            self.known_keys(account, ("name", "send_budget", "endpoint", "token_env", "sim_nodes", "token"),
                            "transport.accounts[]")
            self.no_secret(account, "transport.accounts[]")
            name = self.string(account, "name", "transport.accounts[]", required=True) or ""
            if name and not CODE_PATTERN.match(name):
                self.error(self.line_of(account, "name"), f"account name {name!r} must be letters, digits, - or _",
                           "e.g. name: bot-a")
            if any(a.name == name for a in accounts):
                self.error(self.line_of(account, "name"), f"account {name!r} is listed twice",
                           "give each account its own name")
            nodes = account.get("sim_nodes") or []
            if not isinstance(nodes, list):
                self.error(self.line_of(account, "sim_nodes"), "sim_nodes must be a list of node codes",
                           "e.g. sim_nodes: [JQS-01, JQS-02]")
                nodes = []
            accounts.append(AccountConfig(
                name=name, send_budget=self.send_budget(account, "transport.accounts[].send_budget", budget),
                endpoint=self.string(account, "endpoint", "transport.accounts[]") or None,
                token_env=self.string(account, "token_env", "transport.accounts[]") or None,
                sim_nodes=tuple(str(n) for n in nodes)))
        return tuple(accounts)

    def check_web(self, data: _LinedDict) -> WebConfig:
        section = self.mapping(data.get("web"), self.line_of(data, "web"), "web")
        if section is None:
            return WebConfig()
        self.known_keys(section, ("host", "port", "enabled", "public_url", "secure_cookies", "open311_public"), "web")
        host = self.string(section, "host", "web", default="127.0.0.1") or "127.0.0.1"
        port = self.integer(section, "port", "web", 8080, 0, 65535)
        enabled = section.get("enabled", True)
        if not isinstance(enabled, bool):
            self.error(self.line_of(section, "enabled"), "web.enabled must be true or false", "write enabled: true")
            enabled = True
        public_url = self.string(section, "public_url", "web")
        if public_url and not re.match(r"^https?://[^\s/]+", public_url):
            self.error(self.line_of(section, "public_url"), f"web.public_url is not a web address: {public_url!r}",
                       "write e.g. public_url: https://grid.example.org")
            public_url = None
        secure = section.get("secure_cookies", bool(public_url and public_url.startswith("https://")))
        if not isinstance(secure, bool):
            self.error(self.line_of(section, "secure_cookies"), "web.secure_cookies must be true or false",
                       "write secure_cookies: true when the console is served over HTTPS")
            secure = False
        public_feed = section.get("open311_public", False)
        if not isinstance(public_feed, bool):
            self.error(self.line_of(section, "open311_public"), "web.open311_public must be true or false",
                       "write open311_public: true only if anyone may read the requests (masked, without names)")
            public_feed = False
        return WebConfig(host=host, port=port, enabled=enabled, public_url=public_url or None, secure_cookies=secure,
                         open311_public=public_feed)

    def check_lexicon(self, data: _LinedDict) -> Mapping[str, Any] | None:
        value = data.get("lexicon")
        if value is None:
            return None
        section = self.mapping(value, self.line_of(data, "lexicon"), "lexicon")
        if section is None:
            return None
        try:
            from bot.domain.parsing import Lexicon, LexiconError
        except ImportError:  # the parser is optional for loading the tree
            return section
        try:
            Lexicon.from_mapping(section)
        except LexiconError as exc:
            self.error(_line_for_path(section, exc.path), f"{exc.path}: {exc.message}",
                       "see docs/lexicon.md for the shape of the lexicon section")
        return section


def _is_secret_param(name: str) -> bool:
    name = name.strip().lower().replace("-", "_")
    return name not in _PATH_PARAMS and name.endswith(_SECRET_PARAMS)


def _unreadable_database_url(url: str) -> str | None:
    """Why the database URL cannot be parsed (as the database layer will parse it), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError as exc:
        return str(exc)
    try:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError
    except ImportError:  # the storage layer is optional for checking a config
        return None
    try:
        make_url(url)
    except (ArgumentError, ValueError, TypeError) as exc:
        return str(exc)
    return None


def _item_lines(items: list[Any]) -> list[int | None]:
    if isinstance(items, _LinedList):
        return list(items.item_lines)
    return [None] * len(items)


def _line_for_path(section: _LinedDict, path: str) -> int | None:
    """The line of the deepest key of a dotted path like 'lexicon.categories.safty' that exists."""
    parts = path.split(".")
    if parts and parts[0] == "lexicon":
        parts = parts[1:]
    line: int | None = section.line
    node: Any = section
    for part in parts:
        if isinstance(node, _LinedDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, _LinedList) and part.isdigit() and int(part) < len(node):
            line = node.item_lines[int(part)]
            node = node[int(part)]
        else:
            break
    return line


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"
