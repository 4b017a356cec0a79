"""What a report is about: the thing and its state, as a short key ("电梯:坏", "水:停", "灯:坏").

Two reports join one ticket only when their keys are equal; a report whose thing is not recognised has no
key and joins nothing by itself (when unsure, do not merge). Pure: words in, a key out.
"""

from __future__ import annotations

import re
import unicodedata

# the thing, first match in the text wins; longer and more specific words first
OBJECTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("燃气", ("燃气", "煤气", "天然气", "液化气", "漏气", "气味", "煤气味")),
    ("电梯", ("电梯",)),
    ("门禁", ("门禁", "单元门", "刷卡", "门锁", "防盗门", "大门")),
    ("路灯", ("路灯",)),
    ("灯", ("楼道灯", "声控灯", "灯泡", "灯")),
    ("下水", ("下水道", "下水", "化粪池", "马桶", "地漏", "污水", "管道堵")),
    ("水", ("停水", "没水", "断水", "水压", "自来水", "水管", "水龙头", "水表", "爆管", "漏水", "渗水", "水")),
    ("电", ("停电", "没电", "断电", "跳闸", "电线", "电路", "电表", "电闸", "飞线", "充电")),
    ("垃圾", ("垃圾",)),
    ("火", ("着火", "起火", "冒烟", "火灾", "烧起来")),
    ("噪音", ("噪音", "太吵", "吵死", "装修声", "广场舞")),
    ("停车", ("停车", "车位", "乱停", "堵门口", "挡路")),
    ("网络", ("宽带", "网络", "没网", "信号")),
    ("宠物", ("狗", "猫", "宠物")),
    ("树", ("树", "树枝", "绿化")),
    ("人", ("摔倒", "晕倒", "走失", "联系不上", "打不通", "没人开门", "摔了")),
)

# the state, per kind of thing: the first pattern found names it; a thing with no state word gets its default
_STATES: tuple[tuple[str, str], ...] = (
    ("漏", r"漏|渗|爆"),
    ("堵", r"堵|不通|反水|冒水"),
    ("停", r"停|没有?(?:水|电|气)|断|不来|来不了"),
    ("脏", r"黄|浑|脏|臭|满|溢|堆|没人收|没人清|乱扔"),
    ("坏", r"坏|不亮|不动|不灵|失灵|故障|卡住?|打不开|关不上|不能用|用不了|不工作|不响|闪|黑"),
)
_STATE_RE = [(name, re.compile(pattern)) for name, pattern in _STATES]
# which states a thing can be in; anything else found is read as its default (an elevator that "停了" is broken)
_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "水": (("漏", "停", "脏", "堵"), "停"),
    "电": (("停", "漏", "坏"), "停"),
    "燃气": (("漏", "停"), "漏"),
    "下水": (("堵", "漏", "脏"), "堵"),
    "垃圾": (("脏",), "脏"),
    "电梯": (("坏",), "坏"),
    "门禁": (("坏",), "坏"),
    "灯": (("坏",), "坏"),
    "路灯": (("坏",), "坏"),
    "网络": (("停", "坏"), "坏"),
}
_OBJECT_RE = re.compile("|".join(sorted({w for _, words in OBJECTS for w in words}, key=len, reverse=True)))
_OBJECT_OF = {w: name for name, words in reversed(OBJECTS) for w in words}
_ORDER = {name: i for i, (name, _) in enumerate(OBJECTS)}


def problem_key(text: str) -> str | None:
    """'3号楼电梯又坏了' → '电梯:坏'; '怎么又停水了' → '水:停'; None when no known thing is named."""
    text = unicodedata.normalize("NFKC", text or "")[:500]
    found = [(_ORDER[_OBJECT_OF[m.group(0)]], m) for m in _OBJECT_RE.finditer(text)]
    if not found:
        return None
    _, match = min(found, key=lambda f: (f[0], f[1].start()))
    thing = _OBJECT_OF[match.group(0)]
    if thing not in _KINDS:
        return thing
    states, default = _KINDS[thing]
    word = match.group(0)
    window = text[max(0, match.start() - 6): match.end() + 10]
    # the thing's own word may carry its state (停水, 漏水, 漏气, 停电); else the words around it
    for where in (word, window):
        for name, pattern in _STATE_RE:
            if name in states and pattern.search(where):
                return f"{thing}:{name}"
    return f"{thing}:{default}"


def same_problem(a: str | None, b: str | None) -> bool:
    """Two keys name the same problem only when both are known and equal."""
    return a is not None and a == b
