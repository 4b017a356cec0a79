"""Reading what a browser or a client sent: anything malformed is a 400 with a short Chinese message, never a 500."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiDictProxy

MAX_NUMBER = 2 ** 31 - 1  # ticket numbers and offsets are INTEGER columns in PostgreSQL
_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=message, content_type="text/plain")


def without_surrogates(text: str) -> str:
    """Lone surrogates (valid in a Python str, not in UTF-8) become U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def clean(text: str) -> str:
    """Text that UTF-8 and PostgreSQL accept: NUL dropped, lone surrogates replaced."""
    return without_surrogates(text.replace("\x00", ""))


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The posted form; a body that is no form (a broken multipart, a bad charset) is a 400."""
    try:
        return await request.post()
    except (ValueError, LookupError):
        raise bad_request("表单格式不对。") from None


async def read_json(request: web.Request) -> dict[str, Any]:
    """The posted JSON object; anything else is a 400."""
    try:
        body = await request.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise bad_request("请求不是合法的 JSON。") from None
    if not isinstance(body, dict):
        raise bad_request("请求应是一个 JSON 对象。")
    return body


def whole_number(value: str) -> int | None:
    """A non-negative number in ASCII digits that fits the database, else None ('²' and 10**30 are not)."""
    value = value.strip()
    if not re.fullmatch(r"[0-9]{1,10}", value) or int(value) > MAX_NUMBER:
        return None
    return int(value)


def local_path(target: str, default: str = "/console") -> str:
    """`target` when it is a path on this site, else `default`: no open redirect after signing in.

    Browsers drop tabs and newlines and read '\\' as '/', so '/\\t/evil.example' and '/\\\\evil.example' both
    mean '//evil.example'; any control character or backslash is refused before the check."""
    if _CONTROL.search(target) or "\\" in target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
