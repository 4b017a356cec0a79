"""The community's own household spreadsheet (.xlsx, or .csv in UTF-8 with or without BOM, or GBK) → Households.

Reads a file, writes nothing: `read_households(path, node_code)` returns the households and, for a dry run,
every row it left out and why, numbered as Excel shows them ("第 7 行：缺少房号"). A row with a problem is left
out whole, so that what is imported is what the sheet says; a representative named in a row who is not in that
household only leaves the household without one.

Layout: one row per person, rows of one address make one household. Headers are matched without spaces, stars,
line breaks or what is in brackets ("* 联系电话（手机）" is 联系电话); the columns are listed in `COLUMNS`.
An address comes from 楼栋/单元/房号, or from 地址 for a village ("李家村3组12号"). A row whose address cells are
all empty or 同上 belongs to the household above (family members under their head); an empty 楼栋 or 单元 under
a filled one repeats it (merged cells, or a CSV saved from them); a header may take two rows (merged cells above
and across), and full-width digits (３号楼２０１) read as digits. The person of a row is a tenant when the
relation or the 是否出租 column says 租客; a 租客 column names a tenant of the owner's household instead. In a
workbook every sheet with a recognisable header is read (one sheet per building is common).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.domain.addresses import Address, address_from_parts, clean, parse_address
from bot.domain.households import HEAD, Household, HouseholdMember, Proxy, Tenant

_LOGGER = logging.getLogger(__name__)

COLUMNS: dict[str, tuple[str, ...]] = {
    "building": ("楼栋", "楼号", "楼栋号", "栋号", "幢号", "楼幢", "楼幢号", "栋", "幢", "楼宇", "楼"),
    "unit": ("单元", "单元号"),
    "room": ("房号", "门牌号", "室", "室号", "房间号", "门牌", "户号", "房屋号"),
    "address": ("地址", "住址", "家庭住址", "现住址", "详细地址", "房屋地址", "居住地址"),
    "name": ("姓名", "成员姓名", "居民姓名", "人员姓名", "名字"),
    "head": ("户主", "户主姓名"),
    "relation": ("与户主关系", "关系", "与户主的关系", "家庭关系"),
    "phone": ("联系电话", "手机", "手机号", "手机号码", "电话", "电话号码", "联系方式"),
    "nickname": ("微信昵称", "群昵称", "微信名", "昵称", "微信群昵称"),
    "rented": ("是否出租", "出租", "出租情况", "房屋状态", "居住类型", "人员类型", "人员类别", "居住性质"),
    "tenant": ("租客", "租户", "租客姓名", "租户姓名", "承租人"),
    "tenant_phone": ("租客电话", "租户电话", "租客手机", "承租人电话"),
    "tenant_nickname": ("租客微信昵称", "租客昵称", "租户微信昵称"),
    "moved_in": ("入住日期", "入住时间", "起租日期", "租住日期", "搬入日期"),
    "moved_out": ("搬离日期", "搬离时间", "退租日期", "迁出日期", "搬出日期"),
    "representative": ("代表", "户代表", "是否户代表", "家庭代表", "一户一代表"),
    "proxy": ("代联系人", "代收人", "紧急联系人", "联系人"),
    "proxy_relation": ("代联系人关系", "紧急联系人关系", "联系人关系"),
    "proxy_phone": ("代联系人电话", "紧急联系人电话", "联系人电话"),
    "proxy_nickname": ("代联系人微信昵称", "紧急联系人微信昵称", "联系人微信昵称"),
}
_ALIASES = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
_HEADER_SCAN = 15  # a title and a note or two may stand above the header
_YES = {"是", "Y", "YES", "1", "√", "✓", "✔", "对", "出租", "已出租", "是的", "TRUE", "代表", "户代表"}
_NO = {"否", "N", "NO", "0", "×", "✗", "不是", "未出租", "自住", "FALSE", "无", "-"}
_TENANT = {"租客", "租户", "承租人", "租住", "流动人口"}
_SAME = {"同上", "〃", '"', "''"}
_NOT_A_PHONE = {"无", "暂无", "没有", "-", "/"}
_TOTALS = ("合计", "小计", "总计")
_PHONE_SPLIT = re.compile(r"[,，/、;；]+")
_WHOLE_FLOAT = re.compile(r"^\d+\.0$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?|月)?$")


class HouseholdImportError(ValueError):
    """The file as a whole cannot be read (the message is for the leader, in Chinese)."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row left out of the import, and why."""

    row: int
    message: str
    sheet: str | None = None

    def __str__(self) -> str:
        where = f"「{self.sheet}」" if self.sheet else ""
        return f"{where}第 {self.row} 行：{self.message}"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What a spreadsheet gives: the households, the rows left out, how many rows were read."""

    households: tuple[Household, ...]
    problems: tuple[RowProblem, ...]
    rows: int

    def lines(self) -> list[str]:
        """The dry-run report, one line per row left out."""
        return [str(p) for p in self.problems]


class _Skip(Exception):
    """A row cannot be used; the message says why."""


@dataclass
class _Draft:
    address: str
    parts: Address
    members: list[HouseholdMember] = field(default_factory=list)
    tenants: list[Tenant] = field(default_factory=list)
    names: dict[tuple[str, bool], int] = field(default_factory=dict)  # (name, tenant?) → row
    representative: tuple[str, int] | None = None
    rented: bool = False


def read_households(path: str | Path, node_code: str) -> ImportResult:
    """The households of `node_code` in an .xlsx or .csv file, and the rows left out (see the module docstring)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        sheets = list(_xlsx_sheets(path))
    elif suffix == ".csv":
        sheets = [(None, _csv_rows(path.read_bytes()))]
    elif suffix == ".xls":
        raise HouseholdImportError("不支持 .xls 旧格式：请在 Excel 里另存为 .xlsx 或 CSV 再导入")
    else:
        raise HouseholdImportError(f"看不懂 {path.name}：请用 .xlsx 或 .csv 文件")
    drafts: dict[str, _Draft] = {}
    problems: list[RowProblem] = []
    used, rows = 0, 0
    for sheet, table in sheets:
        found = _header(table)
        if found is None:
            continue
        used += 1
        start, columns = found
        rows += _read_sheet(table[start + 1:], start + 2, columns, drafts, problems, sheet)
    if not used:
        raise HouseholdImportError(
            f"前 {_HEADER_SCAN} 行里找不到表头：至少要有“房号”或“地址”一列，和“姓名”或“户主”一列")
    if used == 1:  # one sheet: "第 7 行" is enough
        problems = [RowProblem(p.row, p.message) for p in problems]
    households = []
    for draft in drafts.values():
        representative = draft.representative
        known = {m.name for m in draft.members} | {t.name for t in draft.tenants}
        if representative is not None and representative[0] not in known:
            problems.append(RowProblem(representative[1], f"代表“{representative[0]}”不是这一户的人"))
            representative = None
        households.append(Household.at(node_code, draft.address, parts=draft.parts, members=draft.members,
                                       tenants=draft.tenants, rented=draft.rented,
                                       representative=representative[0] if representative else None))
    _LOGGER.info("%s: %d households, %d rows left out", path.name, len(households), len(problems))
    return ImportResult(tuple(households), tuple(sorted(problems, key=lambda p: (p.sheet or "", p.row))), rows)


# -- reading the file --------------------------------------------------------------------------

def _xlsx_sheets(path: Path) -> Iterator[tuple[str, list[list[Any]]]]:
    from openpyxl import load_workbook  # the console's export dependency; only the importer needs it here

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged or mislabelled file
        raise HouseholdImportError(f"打不开 {path.name}：{error}") from error
    try:  # merged 楼栋 cells hold their value in their first row only: the rows below repeat it (see above)
        for sheet in workbook.worksheets:
            yield sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> list[list[Any]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")  # Excel's "Unicode 文本"
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030", errors="replace")  # what Excel in China writes (GBK's superset)
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count)
    return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _header_name(cell: Any) -> str | None:
    text = unicodedata.normalize("NFKC", str(cell or ""))
    text = re.sub(r"\(.*?\)|\[.*?\]|[\s*:：]", "", text)
    for part in (text, *re.split(r"[/、|]", text)):
        if part in _ALIASES:
            return _ALIASES[part]
    return None


def _header(table: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    """The header row's index and field → column, the first of `_HEADER_SCAN` rows that looks like one."""
    for index, row in enumerate(table[:_HEADER_SCAN]):
        columns: dict[str, int] = {}
        for col, cell in enumerate(row):
            name = _header_name(cell)
            if name is not None:
                columns.setdefault(name, col)
        # a two-row header: "住户信息" merged above 楼栋/单元/房号, and 姓名 merged down both rows, holds its name in
        # the upper row only (a merged cell keeps its value in its first cell)
        above = table[index - 1] if index else []
        for col, cell in enumerate(above):
            name = _header_name(cell)
            if name is not None and (col >= len(row) or _text(row[col]) == ""):
                columns.setdefault(name, col)
        if ({"room", "address"} & columns.keys()) and ({"name", "head", "tenant"} & columns.keys()):
            return index, columns
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date().isoformat()
    text = unicodedata.normalize("NFKC", str(value)).strip()
    # a number kept as a float: "201.0", "13812345678.0" (a cell stored as 1.38E10, a CSV saved by pandas)
    return text[:-2] if _WHOLE_FLOAT.match(text) else text


# -- reading the rows --------------------------------------------------------------------------

def _read_sheet(rows: Sequence[list[Any]], first: int, columns: dict[str, int], drafts: dict[str, _Draft],
                problems: list[RowProblem], sheet: str | None) -> int:
    carried: dict[str, str] = {}
    last: _Draft | None = None
    read = 0
    for number, row in enumerate(rows, first):
        raw = {name: row[col] if col < len(row) else None for name, col in columns.items()}
        cells = {name: _text(value) for name, value in raw.items()}
        if not any(cells.values()) or any(_text(v).startswith(_TOTALS) for v in row):
            continue  # a blank row, or the 合计 line at the bottom
        read += 1
        try:
            last = _read_row(number, raw, cells, columns, carried, last, drafts)
        except _Skip as why:
            problems.append(RowProblem(number, str(why), sheet))
    return read


def _read_row(number: int, raw: dict[str, Any], cells: dict[str, str], columns: dict[str, int],
              carried: dict[str, str], last: _Draft | None, drafts: dict[str, _Draft]) -> _Draft:
    name = cells.get("name") or cells.get("head") or ""
    relation = cells.get("relation", "")
    tenant_row = relation in _TENANT or cells.get("rented", "") in _TENANT
    if not name and not cells.get("tenant"):
        raise _Skip("缺少姓名")
    draft = _draft_of(cells, columns, carried, last, drafts, head_row=relation == HEAD)
    phone = _phones(cells.get("phone", ""))
    if not relation and not tenant_row:
        head = cells.get("head")
        relation = HEAD if (head and head == name) or (not head and not draft.members) else ""
    proxy = None
    if cells.get("proxy"):
        proxy = Proxy(cells["proxy"], cells.get("proxy_relation", ""), _phones(cells.get("proxy_phone", "")),
                      cells.get("proxy_nickname") or None)
    tenant_name = name if tenant_row else cells.get("tenant", "")
    tenant = None
    if tenant_name:
        moved_in, moved_out = _date(raw.get("moved_in"), "入住日期"), _date(raw.get("moved_out"), "搬离日期")
        if moved_in and moved_out and moved_out < moved_in:
            raise _Skip("搬离日期早于入住日期")
        tenant_phone = phone if tenant_row else _phones(cells.get("tenant_phone", ""))
        nickname = cells.get("nickname") if tenant_row else cells.get("tenant_nickname")
        tenant = Tenant(tenant_name, tenant_phone, nickname or None, moved_in=moved_in, moved_out=moved_out)
    member = None if tenant_row or not name else HouseholdMember(name, relation, phone,
                                                                  cells.get("nickname") or None, proxy=proxy)
    for person, is_tenant in ((member, False), (tenant, True)):
        if person is not None and (person.name, is_tenant) in draft.names:
            raise _Skip(f"{person.name} 与第 {draft.names[(person.name, is_tenant)]} 行重复")
    chosen = _representative(cells.get("representative", ""), name)
    if chosen and draft.representative and draft.representative[0] != chosen:
        raise _Skip(f"这一户已有代表（第 {draft.representative[1]} 行）")
    # the row is good: only now does it change the household
    if member is not None:
        draft.members.append(member)
        draft.names[(member.name, False)] = number
    if tenant is not None:
        draft.tenants.append(tenant)
        draft.names[(tenant.name, True)] = number
    draft.rented = draft.rented or tenant is not None or cells.get("rented", "").upper() in _YES
    if chosen and draft.representative is None:
        draft.representative = (chosen, number)
    drafts.setdefault(draft.parts.key, draft)
    return draft


def _draft_of(cells: dict[str, str], columns: dict[str, int], carried: dict[str, str], last: _Draft | None,
              drafts: dict[str, _Draft], *, head_row: bool) -> _Draft:
    """The household a row belongs to: its own address, or the one above for a family member's row."""
    given = {k: cells.get(k, "") for k in ("building", "unit", "room", "address")}
    if all(v in _SAME or not v for v in given.values()):
        if last is not None and not head_row:
            return last
        raise _Skip("缺少房号" if "room" in columns else "缺少地址")
    if given["room"] and given["room"] not in _SAME:
        for part in ("building", "unit"):
            if given[part] and given[part] not in _SAME:
                carried[part] = given[part]
            elif part in carried:
                given[part] = carried[part]
        parts = address_from_parts(given["building"], given["unit"], given["room"])
        if parts is None:
            raise _Skip(f"看不懂房号“{given['room']}”")
        written = _written(given["building"], "号楼") + _written(given["unit"], "单元") + _written(given["room"], "室")
    elif given["address"] and given["address"] not in _SAME:
        parts = parse_address(given["address"])
        if parts is None:
            raise _Skip(f"看不懂地址“{given['address']}”")
        written = given["address"]
    else:
        raise _Skip("缺少房号")
    return drafts.get(parts.key) or _Draft(written, parts)


def _written(part: str, marker: str) -> str:
    """A cell as the address shows it: a bare number gets its marker ("3" → "3号楼")."""
    return f"{part}{marker}" if part and clean(part).isdigit() else part


def _phones(text: str) -> str | None:
    """The numbers of a phone cell, checked (a mobile has 11 digits, a landline 7–8 or 10–12 with 0 first)."""
    if text in _NOT_A_PHONE or not text:
        return None
    numbers = []
    for part in _pieces(text):
        digits = re.sub(r"[-()（）]", "", part)
        digits = re.sub(r"^(\+86|0086|86)(?=1\d{10}$)", "", digits)
        if not digits:
            continue
        if not digits.isdigit():
            raise _Skip(f"电话号码看不懂（{part}）")
        mobile = len(digits) == 11 and digits.startswith("1")
        landline = (digits.startswith("0") and 10 <= len(digits) <= 12) or (7 <= len(digits) <= 8)
        if not (mobile or landline):
            raise _Skip("电话号码位数不对")
        numbers.append(digits)
    return "、".join(numbers) or None


def _pieces(text: str) -> list[str]:
    """One number per piece: "138 1234 5678" is one, "13812345678 13912345678" two."""
    pieces = []
    for part in _PHONE_SPLIT.split(text.strip()):
        tokens = part.split()
        pieces.extend(tokens if len(tokens) > 1 and all(len(t) >= 7 for t in tokens) else ["".join(tokens)])
    return pieces


def _date(value: Any, what: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and 20000 < value < 80000:  # an Excel day number in a CSV
        return date(1899, 12, 30) + timedelta(days=int(value))
    text = _text(value)
    m = _DATE.match(text) or re.match(r"^(\d{4})(\d{2})(\d{2})$", text)
    try:
        if m is None:
            raise ValueError(text)
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    except ValueError:
        raise _Skip(f"{what}看不懂“{text}”") from None


def _representative(cell: str, name: str) -> str | None:
    """Who a 代表 cell names: this row's person for 是/√, someone else by name, nobody for 否 or empty."""
    if not cell or cell.upper() in _NO:
        return None
    return name if cell.upper() in _YES or cell == name else cell
