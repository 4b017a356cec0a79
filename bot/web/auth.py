"""Signing in: sessions in HTTP-only cookies, CSRF tokens on every form, rate-limited logins, API tokens.

Every console page and API call resolves the caller to a `WebUser` (bot.web.accounts) and checks the
target against the account's subtrees on the server: a URL edited to another grid's ticket gets 403.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections import defaultdict, deque
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.web.accounts import DUMMY_HASH, WebUser, new_token, scope, token_hash, verify_password
from storage.models import WebUserRow
from storage.web_repository import WebRepository

if TYPE_CHECKING:
    from bot.app import GridBot
    from storage.session import Session

COOKIE = "gridbot_session"
SESSION_TTL = timedelta(hours=12)
LOGIN_WINDOW, LOGIN_FAILURES = 300.0, 5  # at most 5 failed logins per account and address in 5 minutes
USER_KEY = "gridbot_user"
CSRF_KEY = "gridbot_csrf"


class LoginLimiter:
    """Failed logins per (username, address) in a sliding window."""

    def __init__(self, failures: int = LOGIN_FAILURES, window: float = LOGIN_WINDOW) -> None:
        self.failures, self.window = failures, window
        self._seen: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def blocked(self, key: tuple[str, str], now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        seen = self._seen[key]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        return len(seen) >= self.failures

    def failed(self, key: tuple[str, str], now: float | None = None) -> None:
        self._seen[key].append(time.monotonic() if now is None else now)

    def succeeded(self, key: tuple[str, str]) -> None:
        self._seen.pop(key, None)


def web_user(bot: GridBot, row: WebUserRow) -> WebUser:
    """The account of a user row, with its scope in the tree of this deployment."""
    person = bot.config.people.get(row.person_key) if row.person_key else None
    nodes = scope(bot.config.tree, bot.directory, role=row.role, person_key=row.person_key, node_code=row.node_code)
    return WebUser(row.username, row.role, person, nodes)


async def login(bot: GridBot, limiter: LoginLimiter, username: str, password: str, address: str
                ) -> tuple[str, str] | str:
    """(cookie token, csrf) on success, else the reason to show."""
    key = (username, address)
    now = bot.clock.now()
    if limiter.blocked(key):
        await bot.db.run(lambda s: WebRepository(s).audit(at=now, username=username, action="login",
                                                          detail="失败次数太多，暂停登录", allowed=False),
                         what="audit")
        return "登录失败次数太多，请 5 分钟后再试。"

    async def work(session: Session) -> tuple[str, str] | None:
        repo = WebRepository(session)
        row = await repo.user(username)
        # always pay for one scrypt: a missing account must not answer faster than a wrong password
        matches = verify_password(password, row.password_hash if row is not None else DUMMY_HASH)
        ok = row is not None and not row.disabled and matches
        why = None if ok else ("账号已停用" if row is not None and row.disabled and matches else "用户名或密码不对")
        await repo.audit(at=now, username=username, action="login", detail=why, allowed=ok)
        if row is None or not ok:
            return None
        token, hashed = new_token()
        csrf = secrets.token_urlsafe(24)
        await repo.start_session(token_hash=hashed, user_id=row.id, csrf=csrf, now=now, expires=now + SESSION_TTL)
        return token, csrf

    result = await bot.db.run(work, what="login")
    if result is None:
        limiter.failed(key)
        return "用户名或密码不对。"
    limiter.succeeded(key)
    return result


async def current_user(request: web.Request, bot: GridBot) -> tuple[WebUser, str] | None:
    """The signed-in account and its CSRF token, from the session cookie."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    found = await bot.db.run(lambda s: WebRepository(s).session_user(token_hash(token), bot.clock.now()),
                             what="session")
    if found is None:
        return None
    row, csrf = found
    return web_user(bot, row), csrf


async def api_user(request: web.Request, bot: GridBot) -> WebUser | None:
    """The account of an `Authorization: Bearer <token>` header."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    row = await bot.db.run(lambda s: WebRepository(s).user_by_token(token_hash(header[7:].strip())),
                           what="api token")
    return web_user(bot, row) if row is not None else None


def json_response(body: Any, *, status: int = 200) -> web.Response:
    """JSON with Chinese as UTF-8 text, not \\u escapes."""
    return web.json_response(body, status=status, dumps=lambda value: json.dumps(value, ensure_ascii=False))


def same_secret(expected: str, given: object) -> bool:
    """Constant-time equality that any posted value may reach (compare_digest refuses non-ASCII str)."""
    return isinstance(given, str) and hmac.compare_digest(expected.encode("utf-8"),
                                                          given.encode("utf-8", "replace"))


def check_csrf(expected: str, given: object) -> None:
    """403 unless the form carried the session's CSRF token."""
    if not given or not same_secret(expected, given):
        raise web.HTTPForbidden(text="表单已过期或来源不明（CSRF），请刷新页面后再试。")


def set_session_cookie(response: web.StreamResponse, token: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, token, httponly=True, secure=secure, samesite="Strict", path="/",
                        max_age=int(SESSION_TTL.total_seconds()))
