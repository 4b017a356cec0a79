"""Every sentence about the household registry: the `#无人在群` answer and the `gridbot households` lines (zh).

    household_line(household, on)            "1-1-601（1号楼1单元601室）吴奶奶 户主 138****0006；代联系人 吴强（儿子）…"
    reach_line(household, on, reached_by)    the same with how it is reached: "在群：…", "经代联系人…", "无人在群"
    unreached_answer(scope, shown, total, registered)   the `#无人在群` reply
    import_summary(node, replaced, result)   what `gridbot households import` stored

Phones are always masked here (bot/domain/privacy.py through `shown_phone`): these lines go to leaders' chats
and terminals, never to the spreadsheet's owner only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.domain.households import Household

UNREACHED_LIMIT = 30  # lines in one chat message; the rest are counted

NOT_STAFF = "抱歉，#无人在群 是网格负责人用的命令。"
HELP = "用法：#无人在群 [节点编码]，列出您负责范围内没有任何人在群里的住户（需先导入住户名单）。"


def _phone(person: object) -> str:
    shown = getattr(person, "shown_phone", None)
    return f" {shown}" if shown else ""


def household_line(household: Household, on: date) -> str:
    """One household: key, address as written, who speaks for it, and its proxies (phones masked)."""
    head = f"{household.key}（{household.address}）" if household.address != household.key else household.key
    speaker = household.spokesperson(on)
    parts = [head]
    if speaker is not None:
        relation = getattr(speaker, "relation", "租客")
        parts.append(f"{speaker.name} {relation}{_phone(speaker)}".rstrip())
    proxies = [f"代联系人 {m.proxy.name}" + (f"（{m.proxy.relation}）" if m.proxy.relation else "")
               + (f"{m.proxy.where}" if m.proxy.where else "") + _phone(m.proxy)
               for m in household.members if m.proxy is not None]
    line = " ".join(parts)
    return line + ("；" + "；".join(proxies) if proxies else "")


def reach_line(household: Household, on: date, reached_by: Sequence[str]) -> str:
    """A household and how it is reached (`reached_by`: "在「群」：昵称", "经代联系人 …"), or 无人在群."""
    how = "；".join(reached_by) if reached_by else "无人在群"
    return f"{household_line(household, on)} —— {how}"


def unreached_answer(scope: str, lines: Sequence[str], registered: int) -> str:
    """The `#无人在群` reply: at most `UNREACHED_LIMIT` households, then how many more."""
    if not registered:
        return (f"{scope}还没有导入住户名单。请先在服务器上运行："
                f"gridbot households import 住户表.xlsx --node 节点编码")
    if not lines:
        return f"{scope}登记的 {registered} 户都有人在群里（本人、家人、租客或代联系人）。"
    shown = list(lines[:UNREACHED_LIMIT])
    text = [f"{scope}无人在群的住户：{len(lines)} 户（共登记 {registered} 户），请上门或电话通知："]
    text.extend(f"· {line}" for line in shown)
    if len(lines) > len(shown):
        text.append(f"……还有 {len(lines) - len(shown)} 户")
    return "\n".join(text)


def import_summary(node_name: str, node_code: str, removed: int, stored: int, people: int, left_out: int,
                   *, dry_run: bool) -> str:
    """What an import stored (or, for a dry run, would store)."""
    if dry_run:
        return (f"试导入（未保存）：{node_name}（{node_code}）将登记 {stored} 户、{people} 人"
                f"（现有 {removed} 户将被替换），{left_out} 行未导入。去掉 --dry-run 即正式导入。")
    return (f"已导入：{node_name}（{node_code}）登记 {stored} 户、{people} 人"
            f"（替换了原有 {removed} 户），{left_out} 行未导入。")
