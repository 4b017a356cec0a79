"""The console's 住户 page: the registered households of a node's subtree and how each is reached (无人在群 first),
and the import of a community's spreadsheet: upload → a dry run listing every row left out and what would be
stored → a confirmation that stores it (CSRF-checked, audited).

The confirmation carries the uploaded file itself (base64, in the form) and reads it again: what is stored is
what the dry run showed, and nothing the browser says about the rows is trusted. Phones are shown masked.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.domain import households_wording as wording
from bot.households import people_count
from bot.households_import import HouseholdImportError, ImportResult, read_households
from bot.web import flash
from bot.web.accounts import WebUser
from bot.web.actions import forbidden, visible_nodes
from bot.web.forms import bad_request, clean
from bot.web.keys import bot_of
from bot.web.pages import audit, posted_form, render, require
from bot.work import Work, perform
from storage.household_repository import HouseholdRepository

if TYPE_CHECKING:
    from bot.app import GridBot

MAX_FILE = 4 * 1024 * 1024  # a community's sheet is a few hundred kB; the form carries it twice (upload, confirm)
SHOWN = 1000
_SUFFIXES = (".xlsx", ".csv")


async def _node(request: web.Request, bot: GridBot, user: WebUser, code: str) -> str:
    tree = bot.config.tree
    if not user.can_see(tree, code):
        await audit(request, user, "view", f"node:{code}", "住户", allowed=False)
        raise forbidden(f"节点 {code} ")
    return code


async def households_page(request: web.Request) -> web.Response:
    """Each registered household of the subtree, 无人在群 first, with how it is reached; the import form."""
    user, csrf = await require(request)
    bot = bot_of(request)
    tree = bot.config.tree
    code = request.query.get("node", "").strip() or (user.nodes[0] if user.nodes else "")
    if not code:
        raise forbidden("住户名单")
    code = await _node(request, bot, user, code)
    today = bot.clock.now().astimezone(bot.config.tz).date()

    async def job(work: Work) -> tuple[list[Any], dict[str, int]]:
        counts = await HouseholdRepository(work.session).counts(tree.descendant_codes(code))
        return await work.households.reach(code), counts

    reach, counts = await perform(bot.services, job, what="households page", wake=False)
    rows = sorted(((wording.household_line(h, today), h, how) for h, how in reach), key=lambda r: bool(r[2]))
    nodes = visible_nodes(tree, user)
    return render(request, "households.html", "住户", user, node=tree.node(code), rows=rows[:SHOWN],
                  more=max(0, len(rows) - SHOWN), unreached=sum(1 for r in rows if not r[2]), counts=counts,
                  nodes=nodes, csrf=csrf if user.can_act else None, said=await flash.take(request))


def _read(data: bytes, filename: str, node_code: str) -> ImportResult:
    """The sheet's households, read from a temporary copy (the reader wants a path and a suffix)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in _SUFFIXES:
        raise HouseholdImportError("请上传 .xlsx 或 .csv 文件（旧的 .xls 请先在 Excel 里另存为 .xlsx）")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        return read_households(path, node_code)


def _upload(form: Any) -> tuple[bytes, str]:
    """The file of the first step (a multipart upload) or of the confirmation (base64 in the form)."""
    field = form.get("file")
    if field is not None and hasattr(field, "file"):
        data, name = field.file.read(MAX_FILE + 1), clean(str(field.filename or ""))
    else:
        try:
            data = base64.b64decode(str(form.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            raise bad_request("导入的文件数据不完整，请重新上传。") from None
        name = clean(str(form.get("filename", "")))
    if not data:
        raise bad_request("请选择要导入的文件。")
    if len(data) > MAX_FILE:
        raise bad_request("文件太大：请只保留住户名单这几列，或按楼栋分开导入。")
    return data, Path(name).name[:100] or "upload.xlsx"


async def households_import(request: web.Request) -> web.StreamResponse:
    """The first POST shows what an import would do; only the confirmation's POST stores it."""
    user, bot, form = await posted_form(request)
    tree = bot.config.tree
    code = clean(str(form.get("node", ""))).strip()
    if code not in tree:
        raise bad_request("请选择一个节点。")
    confirm = form.get("confirm") == "1"
    if not user.can_act or not user.can_see(tree, code):
        await audit(request, user, "households_import", f"node:{code}", "没有权限导入这个节点的住户",
                    allowed=False)
        raise forbidden(f"节点 {code} 的住户导入")
    data, filename = _upload(form)
    node = tree.node(code)
    try:
        result = _read(data, filename, code)
    except HouseholdImportError as error:
        await flash.put(request, f"无法导入 {filename}：{error}")
        raise web.HTTPFound(f"/console/households?node={code}")
    people = people_count(result.households)
    if not confirm:
        existing = await bot.db.run(lambda s: HouseholdRepository(s).counts([code]), what="households count")
        today = bot.clock.now().astimezone(bot.config.tz).date()
        _, csrf = await require(request)
        return render(request, "households_import.html", "确认导入住户", user, csrf=csrf, node=node,
                      result=result, people=people, existing=existing.get(code, 0), filename=filename,
                      data=base64.b64encode(data).decode("ascii"),
                      lines=[wording.household_line(h, today) for h in result.households])

    async def job(work: Work) -> str:
        replaced = await work.households.store(code, result.households, source=filename)
        return wording.import_summary(node.name, code, replaced.removed, replaced.stored, replaced.people,
                                      len(result.problems), dry_run=False)

    said = await perform(bot.services, job, what="importing households", wake=False)
    await audit(request, user, "households_import", f"node:{code}",
                f"{filename}：登记 {len(result.households)} 户、{people} 人，{len(result.problems)} 行未导入")
    await flash.put(request, said)
    raise web.HTTPFound(f"/console/households?node={code}")


def setup(app: web.Application) -> None:
    app.router.add_get("/console/households", households_page)
    app.router.add_post("/console/households/import", households_import)
