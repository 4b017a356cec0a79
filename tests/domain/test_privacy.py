"""The one masking function for phone and ID-card numbers: the variants residents type, and what it leaves."""

from __future__ import annotations

import pytest

from bot.domain.privacy import mask_optional, mask_personal


@pytest.mark.parametrize("text, masked", [
    ("电话13812345678", "电话138****5678"),
    ("全角１３８１２３４５６７８", "全角１３８****５６７８"),
    ("138 1234 5678", "138****5678"),
    ("138-1234-5678", "138****5678"),
    ("全角空格１３８　１２３４　５６７８", "全角空格１３８****５６７８"),
    ("+8613812345678", "+86138****5678"),
    ("+86 138 1234 5678", "+86 138****5678"),
    ("（+86）138-1234-5678", "（+86）138****5678"),
    ("008613812345678", "0086138****5678"),
    ("电话13812345678 2号楼", "电话138****5678 2号楼"),
    ("身份证110101199003071234", "身份证110***********1234"),
    ("44030419800101123X号", "440***********123X号"),
    ("44030419800101123x", "440***********123x"),
    ("110101 19900307 123X", "110***********123X"),
    ("110101-1990-0307-123x", "110***********123x"),
    ("１１０１０１１９９００３０７１２３Ｘ", "１１０***********１２３Ｘ"),
])
def test_phone_and_id_numbers_are_masked(text, masked):
    assert mask_personal(text) == masked


@pytest.mark.parametrize("text", [
    "工单 #1024 已办结",
    "住 3-1-201 的王阿姨",
    "户号 20231122，2026-11-22 10:30 上门",
    "2026年11月22日",
    "12345678901234567890 是订单号",
    "15 16 17 18 19 20 号楼",
    "座机 021-12345678",
])
def test_short_numbers_rooms_and_dates_stay(text):
    assert mask_personal(text) == text


def test_empty_fields_pass_through():
    assert mask_optional(None) is None and mask_optional("") == ""
