"""A mock WeChat behind the official Wechaty stack: PuppetServer + PuppetMock in Node, driven from Python.

`ensure_node_modules()` installs the pinned Node packages into tests/wechaty/node once (again only when
package.json or the lockfile change). `MockWeChat` runs `node/mock_server.mjs` on a loopback port with a
`World` (rooms, contacts, the bot) and talks to it over its stdin/stdout control channel; `restart()`
kills it and starts it again on the same port with the same world, as a crashed service would come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import itertools
import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
SERVER_SCRIPT = NODE_DIR / "mock_server.mjs"
STAMP = NODE_DIR / "node_modules" / ".gridbot-install-stamp"
NPM_FLAGS = ("--no-audit", "--no-fund", "--prefer-offline")


def _node_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("the Wechaty tests need Node.js 18+ and npm on PATH (they run the official Wechaty "
                    "PuppetServer); install them, e.g. `apt-get install nodejs npm`", pytrace=False)
    return node, npm


def ensure_node_modules() -> str:
    """Install the harness's Node packages if missing or stale; return the path of `node`."""
    node, npm = _node_tools()
    manifest = NODE_DIR / "package.json"
    lockfile = NODE_DIR / "package-lock.json"
    digest = hashlib.sha256(manifest.read_bytes() + (lockfile.read_bytes() if lockfile.exists() else b"")).hexdigest()
    with open(Path(tempfile.gettempdir()) / "gridbot-wechaty-npm.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel runs install once
        if STAMP.exists() and STAMP.read_text() == digest:
            return node
        # `npm install`, not `npm ci`: npm 11 leaves @swc/core's other-platform optional packages out of the
        # lockfile and `npm ci` then refuses it as out of sync. `npm install` keeps the locked versions.
        done = subprocess.run([npm, "install", *NPM_FLAGS], cwd=NODE_DIR, capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0:
            pytest.fail(f"`npm install` failed in {NODE_DIR}:\n{done.stdout[-2000:]}{done.stderr[-4000:]}",
                        pytrace=False)
        digest = hashlib.sha256(manifest.read_bytes() + lockfile.read_bytes()).hexdigest()
        STAMP.write_text(digest)
        return node


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Contact:
    id: str
    name: str


@dataclass(frozen=True)
class MockRoom:
    id: str  # must contain "@", e.g. "jqs-04@chatroom"
    topic: str
    members: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()  # (member id, group nickname 群昵称), as a member sets it in the room


@dataclass(frozen=True)
class World:
    """What the mock WeChat holds: the bot's account, people, and rooms with their members."""

    bot: Contact
    contacts: tuple[Contact, ...] = ()
    rooms: tuple[MockRoom, ...] = ()

    def to_json(self) -> str:
        return json.dumps({
            "bot": {"id": self.bot.id, "name": self.bot.name},
            "contacts": [{"id": c.id, "name": c.name} for c in self.contacts],
            "rooms": [{"id": r.id, "topic": r.topic, "members": list(r.members), "aliases": dict(r.aliases)}
                      for r in self.rooms],
        }, ensure_ascii=False)

    def room(self, room_id: str) -> MockRoom:
        return next(r for r in self.rooms if r.id == room_id)


def resident_id(name: str) -> str:
    """The mock contact id of a resident whom config knows only by display name."""
    return f"res:{name}"


def contact_name(display_name: str) -> str:
    """A resident's own WeChat name for a configured group nickname: '3-201 王芳' → '王芳'.

    On real WeChat the household lives in the 群昵称 only; the contact's name is what its owner chose."""
    from bot.domain.people import household_of

    household = household_of(display_name)
    return display_name[len(household):].strip(" -_—·.") or display_name if household else display_name


def world_from_config(config: Any, bot: Contact = Contact("wxid_gridbot", "微格助手")) -> World:
    """A mock world for a gridbot config: one room per configured room, with its topic (or id),
    its residents, and the role holders of its node and the node's parent (as the simulator builds it).

    As on real WeChat, a resident's contact is named without the household ('王芳') and the configured
    display name ('3-201 王芳') is their group nickname in each of their rooms."""
    names: dict[str, str] = {}
    rooms: list[MockRoom] = []
    tree = config.tree
    for node in tree:
        leaders: list[str] = []
        for holder in tree.lineage(node.code)[:2]:
            for _role, keys in holder.roles:
                for key in keys:
                    person = config.people[key]
                    contact_id = person.wechat_id or f"wxid_{person.key}"
                    names.setdefault(contact_id, person.name)
                    leaders.append(contact_id)
        for index, room in enumerate(node.rooms):
            residents = [resident_id(name) for name in room.members]
            names.update({resident_id(name): contact_name(name) for name in room.members})
            room_id = room.id or f"{node.code}-{index + 1}@chatroom"
            rooms.append(MockRoom(room_id, room.topic or room_id, tuple(dict.fromkeys(residents + leaders)),
                                  tuple((resident_id(name), name) for name in room.members)))
    return World(bot, tuple(Contact(i, n) for i, n in names.items() if i != bot.id), tuple(rooms))


class MockServerError(RuntimeError):
    pass


class MockWeChat:
    """The Node mock server as a child process; commands are awaited, answers come back in order."""

    def __init__(self, world: World, workdir: Path, *, node: str = "node", port: int | None = None,
                 token: str = "gridbot-test-token", start_timeout: float = 30.0) -> None:
        self.world = world
        self.workdir = workdir
        self.node = node
        self.port = port or free_port()
        self.token = token
        self.start_timeout = start_timeout
        self.starts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._ready: asyncio.Future[None] | None = None
        self._stderr: Any = None
        self.world_file = workdir / "world.json"
        self.log_file = workdir / "mock_server.log"
        self.world_file.write_text(world.to_json(), encoding="utf-8")

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.starts += 1
        self._stderr = open(self.log_file, "ab")
        self._proc = await asyncio.create_subprocess_exec(
            self.node, str(SERVER_SCRIPT), "--port", str(self.port), "--token", self.token,
            "--world", str(self.world_file), cwd=NODE_DIR, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=self._stderr)
        self._ready = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(self._proc, self._ready), name="mock-wechat-reader")
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), self.start_timeout)
        except (asyncio.TimeoutError, MockServerError) as exc:
            await self.kill()
            raise MockServerError(f"mock server did not start: {exc}\n{self.log_tail()}") from None

    async def _read(self, proc: asyncio.subprocess.Process, ready: asyncio.Future[None]) -> None:
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            if answer.get("ready") and not ready.done():
                ready.set_result(None)
            future = self._pending.pop(answer.get("id"), None)
            if future is not None and not future.done():
                future.set_result(answer)
        error = MockServerError(f"mock server exited with {await proc.wait()}")
        if not ready.done():
            ready.set_exception(error)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    async def command(self, cmd: str, **args: Any) -> dict[str, Any]:
        if self._proc is None or self._proc.stdin is None:
            raise MockServerError("mock server is not running")
        command_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = future
        self._proc.stdin.write((json.dumps({"id": command_id, "cmd": cmd, **args}, ensure_ascii=False) + "\n").encode())
        await self._proc.stdin.drain()
        answer = await asyncio.wait_for(future, 10.0)
        if not answer.get("ok"):
            raise MockServerError(f"{cmd} failed: {answer.get('error')}")
        return answer

    async def say(self, sender: str, room: str | None, text: str | None = None, *, mentions: Sequence[str] = (),
                  type: str = "text", to: str | None = None) -> str:
        """`sender` types in `room` (or to the bot privately); returns the message id."""
        args: dict[str, Any] = {"from": sender, "type": type, "mentions": list(mentions)}
        if room:
            args["room"] = room
        if to:
            args["to"] = to
        if text is not None:
            args["text"] = text
        return (await self.command("say", **args))["messageId"]

    async def add(self, room: str, member: str, by: str | None = None) -> None:
        await self.command("add", room=room, member=member, **({"by": by} if by else {}))

    async def alias(self, room: str, member: str, alias: str) -> None:
        """`member` sets their group nickname (群昵称) in `room` ("" clears it); WeChat sends no event for it."""
        await self.command("alias", room=room, member=member, alias=alias)

    async def remove(self, room: str, member: str, by: str | None = None) -> None:
        await self.command("remove", room=room, member=member, **({"by": by} if by else {}))

    async def sent(self) -> list[dict[str, Any]]:
        """What the bot sent since this server process started: [{id, conversation, text, mentions}]."""
        return (await self.command("sent"))["sent"]

    async def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
        await self._reap()

    async def stop(self) -> None:
        """Ask the server to shut down (closing its stdin), killing it if it takes too long."""
        if self._proc is not None and self._proc.stdin is not None and self._proc.returncode is None:
            self._proc.stdin.close()
            try:
                await asyncio.wait_for(self._proc.wait(), 5.0)
            except asyncio.TimeoutError:
                self._proc.kill()
        await self._reap()

    async def restart(self) -> None:
        await self.kill()
        await self.start()

    async def _reap(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._proc.wait(), 10.0)
        if self._reader is not None:
            await asyncio.wait({self._reader}, timeout=5.0)
            self._reader.cancel()
        if self._stderr is not None:
            self._stderr.close()
        self._proc = self._reader = self._stderr = None

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return ""


class EventLog:
    """A sink that keeps every event and lets a test wait for the next one that matches."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: Any) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[Any], bool], *, timeout: float = 10.0, after: int = 0) -> Any:
        """The first event (from index `after`) matching `predicate`, waiting for it if need be."""
        async def find() -> Any:
            async with self._changed:
                while True:
                    for event in self.events[after:]:
                        if predicate(event):
                            return event
                    await self._changed.wait()
        try:
            return await asyncio.wait_for(find(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no matching event within {timeout}s; got {self.events[after:]!r}") from None

    def of_type(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


async def until(condition: Callable[[], bool], *, timeout: float = 20.0, step: float = 0.02) -> float:
    """Wait until `condition()` holds; return how long it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(step)
    return time.monotonic() - started


def contacts(pairs: Iterable[tuple[str, str]]) -> tuple[Contact, ...]:
    return tuple(Contact(i, n) for i, n in pairs)
