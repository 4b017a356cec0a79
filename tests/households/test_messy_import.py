"""A spreadsheet as a community really sends it: a title, a two-row header with merged cells, full-width
digits, blank rows between households; read, dry-run and stored on both backends."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from bot.households_import import read_households
from storage.household_repository import HouseholdRepository
from tests.conftest import TZ

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


def messy_workbook(path: Path) -> Path:
    """Title merged across the sheet; "住户信息" merged above 楼栋/单元/房号 and 姓名/电话 merged down two rows."""
    book = Workbook()
    sheet = book.active
    sheet.title = "住户登记"
    sheet.append(["江桥花苑３号楼住户登记表（２０２６年１１月）"])
    sheet.merge_cells("A1:F1")
    sheet.append(["住户信息", None, None, "姓名", "与户主关系", "联系电话"])
    sheet.append(["楼栋", "单元", "房号", None, None, None])
    sheet.merge_cells("A2:C2")
    for column in "DEF":
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.append(["３号楼", "１", "２０１", "王芳", "户主", "１３８１２３４０２０１"])
    sheet.append([None, None, None, "李明", "配偶", None])
    sheet.append([None, None, None, None, None, None])  # a blank row between households
    sheet.append(["３号楼", "１", "２０２", "赵六", "户主", "138 1234 0202"])
    sheet.append([])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["３号楼", "２", "３０１", None, "户主", "13812340301"])  # no name: left out
    sheet.append(["３号楼", "２", "３０２", "孙七", "户主", "１２３"])  # a phone too short: left out
    sheet.append(["３号楼", "２", None, "周八", "户主", None])  # a building but no room: left out
    sheet.append(["３号楼", "２", "４０１", "吴九", "户主", "13812340401"])
    sheet.append(["合计", None, None, "4户", None, None])
    target = path / "messy.xlsx"
    book.save(target)
    return target


def test_a_messy_sheet_is_read_as_its_households(tmp_path: Path) -> None:
    result = read_households(messy_workbook(tmp_path), "JQS-01-03")
    households = {h.key: h for h in result.households}
    assert list(households) == ["3-1-201", "3-1-202", "3-2-401"]
    first = households["3-1-201"]
    assert first.address == "3号楼1单元201室"  # full-width digits read as digits
    assert [(m.name, m.relation) for m in first.members] == [("王芳", "户主"), ("李明", "配偶")]
    assert first.members[0].phone == "13812340201"
    assert households["3-1-202"].members[0].phone == "13812340202"
    assert result.lines() == ["第 10 行：缺少姓名", "第 11 行：电话号码位数不对", "第 12 行：缺少房号"]
    assert result.rows == 7


async def test_the_messy_sheet_stores_what_the_dry_run_showed(tmp_path: Path, db) -> None:
    result = read_households(messy_workbook(tmp_path), "JQS-01-03")
    async with db.unit_of_work() as s:
        done = await HouseholdRepository(s).replace_node("JQS-01-03", result.households, now=NOW, source="messy.xlsx")
    assert (done.stored, done.people) == (3, 4)
    async with db.unit_of_work() as s:
        loaded = await HouseholdRepository(s).load(["JQS-01-03"])
    assert loaded == list(result.households)
    assert [m.name for h in loaded for m in h.members] == ["王芳", "李明", "赵六", "吴九"]
