"""`绑定 XXXX-XXXX-XXXX` sent privately: the sender's contact id becomes the person the code was made for."""

from __future__ import annotations

from bot.domain.binding import code_in
from bot.feature import Feature, Stage
from bot.identity import Redeemed
from bot.messages import IncomingMessage, Reply
from handlers.base import Context
from handlers.commands import reply_to

BOUND = "绑定成功：您是{name}（{roles}）。从现在起，您在群里和私聊中的负责人命令都会生效。"
BOUND_NO_ROLE = "绑定成功：您是{name}。"
REFUSED = {
    "unknown": "绑定码不对。请核对后重发，或请管理员用 gridbot user bind 重新生成。",
    "used": "这个绑定码已经用过了。如需重新绑定，请管理员重新生成。",
    "revoked": "这个绑定码已作废。请管理员重新生成。",
    "expired": "这个绑定码已过期（有效期 24 小时）。请管理员重新生成。",
    "configured": "您的微信已登记为另一位人员，不能用这个绑定码；绑定码已作废，请联系管理员。",
}
IN_GROUP = "绑定码只能私聊发给我。群里发的绑定码已作废，请管理员重新生成后私聊发送。"


class BindHandler:
    """A binding code: honoured in a private chat; in a group it is burnt (everyone there has seen it)."""

    name = "bind"

    def match(self, msg: IncomingMessage, ctx: Context) -> str | None:
        return code_in(msg.text)

    async def handle(self, msg: IncomingMessage, code: str, ctx: Context) -> list[Reply]:
        desk = ctx.work.identity
        if msg.conversation.is_room:
            await desk.burn(code, msg.sender_id)
            return [reply_to(msg, IN_GROUP)]
        configured = ctx.directory.configured(msg.sender_id)
        result = await desk.redeem(code, msg.sender_id, configured_as=configured.key if configured else None)
        if not isinstance(result, Redeemed):
            return [reply_to(msg, REFUSED[result])]
        if configured is None:
            ctx.directory.bind(result.contact_id, result.person_key)
        person = ctx.directory.people[result.person_key]
        roles = "、".join(f"{ctx.tree.node(code).name}{role}" for code, role in ctx.directory.positions(person.key))
        return [reply_to(msg, (BOUND if roles else BOUND_NO_ROLE).format(name=person.name, roles=roles))]


FEATURE = Feature("identity", handlers={Stage.BIND: [BindHandler()]})
