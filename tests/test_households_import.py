"""Importing the community's household spreadsheet: xlsx, CSV in UTF-8 or GBK, messy headers, rows left out."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.domain.households import HouseholdRegistry, Membership, unreached
from bot.households_import import HouseholdImportError, read_households

DATA = Path(__file__).parent / "data" / "households"


def _by_key(result):
    return {h.key: h for h in result.households}


def _write_xlsx(path: Path) -> Path:
    """A workbook as a community keeps it: one sheet per building, merged 楼栋 cells, numbers as numbers."""
    book = Workbook()
    first = book.active
    first.title = "3号楼"
    first.append(["江桥花苑3号楼台账"])
    first.append(["楼栋", "单元", "房号", "姓名", "与户主关系", "手机号码", "微信昵称", "是否出租", "入住日期", "搬离日期",
                  "户代表"])
    first.append([3, 1, 101, "周一", "户主", 13812340001.0, "3-1-101 周一", "否", None, None, "是"])
    first.append([None, 1, 102, "吴三", "户主", 13812340003, None, "否", None, None, None])
    first.append([None, 1, 102, "小钱", "租客", "13812340004", "小钱", "租客", datetime(2024, 3, 1), None, None])
    first.append([None, 2, 201, None, "户主", None, None, None, None, None, None])
    first.append([None, 2, 202, "郑四", "户主", "139 1234 5678", None, None, None, None, None])
    first.merge_cells("A3:A7")
    second = book.create_sheet("5幢")
    second.append(["楼号", "房号", "户主", "联系电话"])
    second.append(["5幢", "601室", "林阿婆", "0571-88886666"])
    second.append(["5幢", "302", "胡晓", "139123456"])
    book.create_sheet("说明").append(["本表由社区填写"])
    target = path / "households.xlsx"
    book.save(target)
    return target


def test_xlsx_with_merged_cells_several_sheets_and_tenants(tmp_path: Path) -> None:
    result = read_households(_write_xlsx(tmp_path), "B3")
    households = _by_key(result)
    assert sorted(households) == ["3-1-101", "3-1-102", "3-2-202", "5-601"]
    assert households["3-1-101"].members[0].phone == "13812340001"  # a float cell, not "13812340001.0"
    assert households["3-1-101"].representative == "周一"
    rented = households["3-1-102"]
    assert [m.name for m in rented.members] == ["吴三"] and rented.rented
    assert rented.tenants[0].name == "小钱" and rented.tenants[0].moved_in == date(2024, 3, 1)
    assert households["3-2-202"].members[0].phone == "13912345678"
    assert households["5-601"].address == "5幢601室" and households["5-601"].members[0].relation == "户主"
    assert result.lines() == ["「3号楼」第 6 行：缺少姓名", "「5幢」第 3 行：电话号码位数不对"]
    assert result.rows == 7


def test_gbk_csv_of_a_village(tmp_path: Path) -> None:
    raw = (DATA / "village_gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fixture really is GBK
    result = read_households(DATA / "village_gbk.csv", "LJC")
    households = _by_key(result)
    assert sorted(households) == ["李家村3组12号", "李家村3组15号", "李家村3组20号"]
    grandpa = households["李家村3组12号"].members[0]
    assert grandpa.name == "李大爷" and grandpa.proxy.name == "李明" and grandpa.proxy.relation == "儿子(在杭州)"
    assert grandpa.proxy.nickname == "李明-李家村12号" and grandpa.proxy.shown_phone == "139****1111"
    rented = households["李家村3组15号"]
    assert rented.members[0].phone == "057188886666"
    assert [(t.name, t.moved_in, t.moved_out) for t in rented.tenants] == [
        ("小周", date(2023, 3, 1), None), ("小吴", date(2022, 5, 1), date(2023, 2, 28))]
    assert [t.name for t in rented.current_tenants(date(2024, 1, 1))] == ["小周"]
    assert households["李家村3组20号"].representative == "王强"
    assert result.lines() == ["第 6 行：这一户已有代表（第 5 行）", "第 7 行：电话号码位数不对", "第 8 行：缺少地址",
                              "第 9 行：入住日期看不懂“2024-13-01”"]


def test_messy_headers_title_rows_and_family_rows_under_their_head() -> None:
    result = read_households(DATA / "messy_headers.csv", "B3")
    households = _by_key(result)
    assert sorted(households) == ["3-1-101", "3-1-102", "3-2-201"]
    family = households["3-1-101"]
    assert [(m.name, m.relation) for m in family.members] == [("周一", "户主"), ("周二", "子女")]
    assert family.members[0].phone == "13812340001" and family.members[0].nickname == "3-1-101 周一"
    assert family.representative == "周一"
    assert households["3-1-102"].members[0].phone == "13812340003"  # +86 and spaces dropped
    assert result.lines() == ["第 7 行：缺少房号", "第 9 行：电话号码位数不对", "第 10 行：钱五 与第 8 行重复"]
    assert result.rows == 7  # the 合计 row is not a household


def test_the_same_sheet_in_utf8_without_bom_reads_the_same(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_bytes((DATA / "messy_headers.csv").read_bytes().removeprefix(b"\xef\xbb\xbf"))
    assert read_households(plain, "B3") == read_households(DATA / "messy_headers.csv", "B3")
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(plain.read_text(encoding="utf-8").encode("gbk"))
    assert read_households(gbk, "B3") == read_households(plain, "B3")
    # Excel's "Unicode 文本": UTF-16 with tabs
    rows = list(csv.reader(io.StringIO(plain.read_text(encoding="utf-8"))))
    text = io.StringIO()
    csv.writer(text, delimiter="\t").writerows(rows)
    unicode_text = tmp_path / "unicode.csv"
    unicode_text.write_bytes(text.getvalue().encode("utf-16"))
    assert read_households(unicode_text, "B3") == read_households(plain, "B3")


def test_numbers_saved_as_floats(tmp_path: Path) -> None:
    sheet = tmp_path / "from_pandas.csv"
    sheet.write_text("楼栋,单元,房号,姓名,手机\n3.0,2.0,201.0,王芳,13812345678.0\n", encoding="utf-8")
    (household,) = read_households(sheet, "B3").households
    assert household.key == "3-2-201" and household.members[0].phone == "13812345678"


def test_imported_households_feed_the_registry() -> None:
    result = read_households(DATA / "messy_headers.csv", "B3")
    registry = HouseholdRegistry(result.households)
    left = unreached(registry, [Membership("3号楼1单元楼道群", "w1", "3-1-101 周一", "B3")], date(2024, 6, 1))
    assert [h.key for h in left] == ["3-1-102", "3-2-201"]


def test_files_it_cannot_read(tmp_path: Path) -> None:
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(HouseholdImportError, match="另存为"):
        read_households(old, "B3")
    headless = tmp_path / "headless.csv"
    headless.write_text("甲,乙\n1,2\n", encoding="utf-8")
    with pytest.raises(HouseholdImportError, match="表头"):
        read_households(headless, "B3")
