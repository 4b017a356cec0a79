"""The simulator chat: the group tree on the left, a WeChat-like chat pane on the right, live."""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import WSMsgType, web

from bot.messages import MessageType
from bot.transport.base import TransportError
from bot.transport.simulator import SimulatorTransport, contact_id_for
from bot.web.forms import bad_request, clean, read_form, read_json, without_surrogates
from bot.web.keys import STATIC_DIR, bot_of
from bot.web.pages import SECURITY_HEADERS
from storage.models import MessageRow
from storage.message_repository import MessageRepository

_LOGGER = logging.getLogger(__name__)

MAX_TEXT = 20_000


def _sim(request: web.Request) -> SimulatorTransport:
    transport = bot_of(request).transport
    assert isinstance(transport, SimulatorTransport)
    return transport


async def index(request: web.Request) -> web.FileResponse:
    # the console's strict CSP here too: the page's script and styles are files, the live feed is same-origin
    return web.FileResponse(STATIC_DIR / "simulator.html", headers=SECURITY_HEADERS)


async def state(request: web.Request) -> web.Response:
    """The tree with each node's groups, for the left pane."""
    bot = bot_of(request)
    sim = _sim(request)
    rooms_by_node: dict[str, list[dict[str, object]]] = {}
    for room in sim.all_rooms():
        rooms_by_node.setdefault(room.node_code or "", []).append(
            {"id": room.id, "topic": room.topic, "members": len(room.members)})
    tree = bot.config.tree

    def node_json(code: str) -> dict[str, object]:
        node = tree.node(code)
        return {"code": code, "name": node.name, "tier": node.tier, "rooms": rooms_by_node.get(code, []),
                "children": [node_json(c) for c in node.children]}

    return web.json_response({
        "deployment": bot.config.name,
        "tz": bot.config.tz.key,  # message times are shown in the deployment's zone, as deadlines are
        "tiers": list(tree.tiers),
        "bot": {"id": sim.bot_id, "name": sim.bot_name},
        "tree": [node_json(code) for code in tree.roots],
        "unknown_rooms": rooms_by_node.get("", []),
    })


async def room(request: web.Request) -> web.Response:
    sim = _sim(request)
    try:
        found = sim.room(request.match_info["room_id"])
    except KeyError:
        raise web.HTTPNotFound(text="没有这个群") from None
    bot = bot_of(request)
    node = bot.config.tree.node(found.node_code) if found.node_code else None
    members = [{"id": m.id, "name": m.name, "role": m.role} for m in found.members.values()]
    members.sort(key=lambda m: (m["role"] is None, m["name"]))
    # history from the database, so it survives restarts: every message in and out is stored
    rows = await bot.db.run(lambda s: MessageRepository(s).recent(found.id, limit=200), what="room history")
    return web.json_response({
        "id": found.id, "topic": found.topic,
        "node": {"code": node.code, "name": node.name, "tier": node.tier} if node else None,
        "members": members, "messages": [_stored(row) for row in rows],
    })


def _stored(row: MessageRow) -> dict[str, object]:
    return {
        "id": f"db{row.id}", "conversation": {"kind": row.conversation_kind, "id": row.conversation_id},
        "sender_id": row.sender_id, "sender_name": row.sender_name, "text": row.text, "at": row.at.isoformat(),
        "mentions": list(row.mentions or ()), "from_bot": row.direction == "out", "type": row.msg_type,
    }


async def post_message(request: web.Request) -> web.Response:
    sim = _sim(request)
    room_id = request.match_info["room_id"]
    body = await read_json(request)
    text = body.get("text")
    sender_id = body.get("sender_id")
    sender_name = body.get("sender_name")
    if not isinstance(text, str) or not isinstance(sender_id, str) or not sender_id:
        raise bad_request("需要 text 和 sender_id。")
    if len(text) > MAX_TEXT:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_TEXT, actual_size=len(text))
    if sender_name is not None and not isinstance(sender_name, str):
        raise bad_request("sender_name 必须是文字。")
    try:  # 202 only once the bot has stored the message: what was accepted is never lost
        message = await sim.post(room_id, clean(sender_id), clean(text),
                                 sender_name=clean(sender_name) if sender_name else None, acknowledged=True)
    except KeyError:
        raise web.HTTPNotFound(text="没有这个群") from None
    except TransportError as exc:
        raise web.HTTPServiceUnavailable(text="消息没有保存，请重发。") from exc
    return web.json_response(message.to_dict(), status=202)


MAX_IMAGE = 5 * 1024 * 1024


async def post_image(request: web.Request) -> web.Response:
    """A member sends a photo (multipart form: sender_id, sender_name, image)."""
    sim = _sim(request)
    room_id = request.match_info["room_id"]
    form = await read_form(request)
    sender_id = form.get("sender_id")
    image = form.get("image")
    if not isinstance(sender_id, str) or not sender_id or not isinstance(image, web.FileField):
        raise bad_request("需要 sender_id 和 image。")
    payload = image.file.read(MAX_IMAGE + 1)
    if len(payload) > MAX_IMAGE:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_IMAGE, actual_size=len(payload))
    name = form.get("sender_name")
    try:
        message = await sim.post(room_id, clean(sender_id), "[图片]",
                                 sender_name=clean(name) if isinstance(name, str) and name else None,
                                 type=MessageType.IMAGE, payload=payload, acknowledged=True)
    except KeyError:
        raise web.HTTPNotFound(text="没有这个群") from None
    except TransportError as exc:
        raise web.HTTPServiceUnavailable(text="消息没有保存，请重发。") from exc
    return web.json_response(message.to_dict(), status=202)


async def add_member(request: web.Request) -> web.Response:
    """Someone new joins a simulated group (a new tenant moving in)."""
    sim = _sim(request)
    body = await read_json(request)
    name = body.get("name")
    name = clean(name).strip()[:50] if isinstance(name, str) else ""
    if not name:
        raise bad_request("需要 name（文字）。")
    member_id = contact_id_for(name)
    try:
        await sim.join(request.match_info["room_id"], member_id, name)
    except KeyError:
        raise web.HTTPNotFound(text="没有这个群") from None
    return web.json_response({"id": member_id, "name": name}, status=201)


def frame(event: dict[str, object]) -> str:
    """An event as JSON text; a lone surrogate (a Python str may hold one, UTF-8 may not) becomes U+FFFD."""
    return without_surrogates(json.dumps(event, ensure_ascii=False))


async def live(request: web.Request) -> web.WebSocketResponse:
    """Every message and membership change, as it happens."""
    sim = _sim(request)
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    queue = sim.observe()

    async def pump() -> None:
        while not ws.closed:
            event = await queue.get()
            try:
                await ws.send_str(frame(event))
            except ConnectionResetError:
                return
            except Exception:  # one odd event must not end the feed for the page
                _LOGGER.exception("could not send a live event to the simulator page")

    task = asyncio.create_task(pump())
    try:
        async for msg in ws:
            if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
    finally:
        task.cancel()
        sim.unobserve(queue)
    return ws


def setup(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/simulator", index)
    app.router.add_get("/api/sim/state", state)
    app.router.add_get("/api/sim/rooms/{room_id}", room)
    app.router.add_post("/api/sim/rooms/{room_id}/messages", post_message)
    app.router.add_post("/api/sim/rooms/{room_id}/images", post_image)
    app.router.add_post("/api/sim/rooms/{room_id}/members", add_member)
    app.router.add_get("/api/sim/live", live)
