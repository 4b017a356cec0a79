"""parse(): what a resident's message is, and what a ticket needs from it.

Rules over a weighted lexicon, all matched by a few compiled regular expressions. Every decision
records the cues that made it, so a leader can see why (the `explanation`). Pure: no I/O, no clock.
(Longer than most modules, on purpose: one job, the decision from cues to kind, category, urgency and place,
which is easier to follow in one file than spread over several.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from bot.domain.parsing.model import default_model
from bot.domain.parsing.situations import settled as settled_event, situations
from bot.domain.parsing.lexicon import (
    COMPLAINT_CUES,
    FIXED_CUES,
    STRONG_ACK,
    HELP_CUES,
    ME_TOO_CUES,
    NOTICE_CUES,
    QUERY_CUES,
    REFERENCE_CUES,
    Lexicon,
    normalize,
)

MAX_CHARS = 2000  # a message longer than this is judged on its beginning

KINDS = ("report", "ack", "query", "chat")
URGENCIES = ("urgent", "normal", "low")
PRIORITY = ("safety", "health", "security", "assistance", "repair", "sanitation", "dispute", "inquiry")


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What is known around a message: whether a notice awaits acknowledgement in its room, its tier."""

    notice_pending: bool = False
    room_tier: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """Where a report is: canonical digits for building, unit and room; a place as written; None if unsaid."""

    building: str | None = None
    unit: str | None = None
    room: str | None = None
    place: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"building": self.building, "unit": self.unit, "room": self.room, "place": self.place}


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What a message is, with the cues that decided it; `to_dict()` is one line of `gridbot parse` output."""

    kind: str
    category: str | None
    urgency: str | None
    location: Location
    explanation: tuple[str, ...]
    confidence: float
    me_too: bool = False
    ticket_ref: str | None = None
    ticket: bool = False  # a report the bot is sure enough of to open a ticket and answer in the group
    review: bool = False  # a likely report held back for a leader to register or dismiss

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "category": self.category, "urgency": self.urgency,
                "location": self.location.to_dict(), "explanation": list(self.explanation),
                "confidence": round(self.confidence, 2), "me_too": self.me_too, "ticket_ref": self.ticket_ref,
                "ticket": self.ticket, "review": self.review}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ParseResult":
        """A stored parse (to_dict) back as a result, e.g. when a leader registers a held message."""
        loc = data.get("location") or {}
        return cls(kind=data.get("kind") or "chat", category=data.get("category"), urgency=data.get("urgency"),
                   location=Location(loc.get("building"), loc.get("unit"), loc.get("room"), loc.get("place")),
                   explanation=tuple(data.get("explanation") or ()), confidence=float(data.get("confidence") or 0),
                   me_too=bool(data.get("me_too")), ticket_ref=data.get("ticket_ref"),
                   ticket=bool(data.get("ticket")), review=bool(data.get("review")))


# -- numbers -----------------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "o": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN = "零〇一幺二两三四五六七八九十百"


def cn_number(text: str) -> str | None:
    """'33' / '三十三' / '五零二' / '二十' → digits; None if it is not a number."""
    if text.isdigit():
        return str(int(text))
    if not text or any(ch not in _CN for ch in text):
        return None
    if "十" not in text and "百" not in text:  # digit by digit: 五零二 → 502
        return "".join(str(_CN_DIGITS[ch]) for ch in text)
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_DIGITS[ch]
    return str(total + current)


_NUM = rf"(\d{{1,4}}|[{_CN}]{{1,4}})"
_ADDRESS = re.compile(r"(?<![\d-])(\d{1,3})-(\d{1,2})-(\d{3,4})(?![\d-])")  # 3-1-201
_ADDRESS2 = re.compile(r"(?<![\d-])(\d{1,3})-(\d{3,4})(?![\d-])")  # 3-201 (building-room)
_BUILDING = re.compile(rf"{_NUM}\s*(?:号楼|栋楼|幢楼|栋|幢|座|#楼|#|号房子|号院)")
# a tower named by a letter, as many newer high-rises are ("B座2503", "A栋302", "c座"): the letter, upper case
_BUILDING_LETTER = re.compile(r"(?<![A-Za-z])([A-Za-z])\s*(?:座|栋|幢|号楼|#楼|#)")
_BUILDING_PLAIN_LOU = re.compile(rf"(?<![\d{_CN}])(\d{{1,2}}|[{_CN}]{{1,3}})\s*楼(?=\s*(?:\d{{1,2}}|[{_CN}]{{1,2}})\s*单元)")
_UNIT = re.compile(rf"{_NUM}\s*单元")
_ROOM = re.compile(rf"(?:(?<=[栋幢座#号楼元\s-])|^|(?<=[住在的是]))\s*(\d{{3,4}}|[{_CN}]{{3,4}})\s*(?:室|房|号房|户)?(?![\d楼层号栋幢])")
_ROOM_HOUSEHOLD = re.compile(
    r"(?:(?<=我家)|(?<=我屋企)|(?<=屋企)|(?<=家住)|(?<=住在)|(?<=对门)|(?<=隔壁)|(?<=楼上)|(?<=楼下)|(?<=我是)|(?<=的)|^)"
    r"\s*(\d{3,4}|[一二三四五六七八九][零〇][一二三四五六七八九零〇]|[一二三四五六七八九]{2}[零〇][一二三四五六七八九])"
    r"(?=\s*(?:的|那|嗰|个|家|号|室|房|户|嘅|租|业主|$|\s|[,，。!！?？]))")
_ROOM_EXPLICIT = re.compile(rf"(\d{{3,4}}|[{_CN}]{{3,4}})\s*(?:室|房间|号房)")
# a room said digit by digit with a zero (六零二, 一〇〇二, 九零一) is a room wherever it stands; nobody counts that way
_CN_ROOM = re.compile(r"(?<![一二三四五六七八九零〇十百千万幺两])([一二三四五六七八九][零〇][一二三四五六七八九零〇][一二三四五六七八九零〇]?)"
                      r"(?![一二三四五六七八九零〇十百千万年月日号点块元])")
_ROOM_NUMBER = r"(\d{3,4}|[一二三四五六七八九][零〇][一二三四五六七八九零〇][一二三四五六七八九零〇]?|[一二三四五六七八九]{2}[零〇][一二三四五六七八九])"
# after "my home / next door / upstairs …": whatever follows, unless it is a unit, a time or a count
_ROOM_AFTER_CUE = re.compile(r"(?:我家|我屋企|我屋|屋企|俺家|俺屋|咱家|阮兜|家住|住在|对门|对面|隔壁|楼上|楼下|我是|替)\s*"
                             + _ROOM_NUMBER + r"(?![\d年月日点号楼层栋幢元块米斤分秒次天个人辆%.:：])")
# before a person or a household ("802老两口", "401的周阿姨", "1203的"): after a space, a sign or the start
_ROOM_BEFORE_PERSON = re.compile(r"(?:(?<=[\s,，。!！?？:：+、])|^)" + r"(\d{3,4})" + r"(?=\s*(?:的|家|那家|号|户|业主|租客|住户|老|阿姨|"
                                 r"大爷|大妈|奶奶|爷爷|阿婆|阿公|阿嬷|叔|婶|伯|小两口|老两口|两口子|也))")
# three digits or a spelled zero (六零二): no room number without one
_ROOM_DIGITS = re.compile(r"\d{3}|[一二三四五六七八九][零〇]")
_ROOM_DIGITS_MARK = re.compile(r"[\d零〇]")  # what _ROOM_DIGITS needs; a scan for it skips in C what cannot be one
# one of these ends every building (_BUILDING, _BUILDING_LETTER, _BUILDING_PLAIN_LOU)
_BUILDING_MARK = re.compile(r"[号栋幢座#楼]")
_ROAD_END = re.compile(r"[路街巷]|大道|胡同")  # what a road's name ends with (_ROAD)
_ROAD = re.compile(r"([\u4e00-\u9fff]{1,5}?(?<![见的条走修过上来去回带让挡堵绕马公小细指问一开位])(?:路|街(?!坊)|大道|巷|胡同))"
                   r"(?![灯面口过况线费牌])(\d{1,4}[号弄])?")
_THREE_DIGITS = re.compile(r"\d{3}")
_TICKET = re.compile(r"(?:查询|工单|编号|单号|#)\s*[#号:]?\s*(\d{3,9})|(\d{3,9})\s*号?工单")
_EMOJI_ONLY = re.compile(r"^[\W_\s\d]*$")
_NOTICE_TITLE = re.compile(r"^\s*(?:【[^】]{0,12}(?:通知|公告|提示|提醒|告知|通告)[^】]{0,4}】|(?:转发|转)[:：])")
_PASS_ON = re.compile(r"(通知|提醒|转告|告诉|转发|告知|传达|转给|转到|在家等|会配合|配合)")


def extract_location(text: str, lexicon: Lexicon) -> tuple[Location, list[str]]:
    """Building, unit, room and place as the text gives them; the cues found."""
    building = unit = room = place = None
    why: list[str] = []
    # cheap guards first: most messages carry no address at all
    has_dash, has_unit = "-" in text, "单元" in text
    m = _ADDRESS.search(text) if has_dash else None
    if m:
        building, unit, room = str(int(m.group(1))), str(int(m.group(2))), m.group(3)
        why.append(f"地址『{m.group(0)}』")
    else:
        m2 = _ADDRESS2.search(text) if has_dash else None
        if m2:
            building, room = str(int(m2.group(1))), m2.group(2)
            why.append(f"地址『{m2.group(0)}』")
    if building is None and _BUILDING_MARK.search(text) is not None:  # what every building pattern ends with
        b = _BUILDING.search(text) or (_BUILDING_PLAIN_LOU.search(text) if has_unit else None)
        if b:
            value = cn_number(b.group(1))
            if value:
                building = value
                why.append(f"楼栋『{b.group(0).strip()}』")
        else:
            letter = _BUILDING_LETTER.search(text)
            if letter:
                building = letter.group(1).upper()
                why.append(f"楼栋『{letter.group(0).strip()}』")
    if unit is None and has_unit:
        u = _UNIT.search(text)
        if u:
            unit = cn_number(u.group(1))
            why.append(f"单元『{u.group(0)}』")
    if room is None:
        r = _ROOM_EXPLICIT.search(text) if "室" in text or "房" in text else None
        if r is None and building is not None:
            r = _ROOM.search(text)
        if r is None and _ROOM_DIGITS_MARK.search(text) and _ROOM_DIGITS.search(text):  # what the four below need
            r = (_ROOM_HOUSEHOLD.search(text) or _ROOM_AFTER_CUE.search(text) or _ROOM_BEFORE_PERSON.search(text)
                 or _CN_ROOM.search(text))
        if r is not None:
            value = cn_number(r.group(1))
            spelled = r.group(1)[1:2] in ("零", "〇")  # 四零一个陈伯: a room, not 401 of something
            if value and len(value) >= 3 and (spelled or not _is_year_or_time(text, r)):
                room = value
                why.append(f"房号『{r.group(0).strip()}』")
    place = _place(text, lexicon)
    if place:
        why.append(f"地点『{place}』")
    elif building is None and unit is None and room is None:
        return _NOWHERE, why  # most messages: one shared empty location
    return Location(building, unit, room, place), why


def _is_year_or_time(text: str, match: re.Match[str]) -> bool:
    tail = text[match.end(): match.end() + 1]
    return tail in ("年", "元", "块", "米", "斤", "点", "分", "秒", "次", "天", "个", "人", "辆", "号")


def _place(text: str, lexicon: Lexicon) -> str | None:
    """A road, gate, landmark or shared area, as written (南门停车场, 村东头池塘边, 通仙路)."""
    m = lexicon.place_re.search(text)
    while m is not None and text[m.end():m.end() + 1] == "舞":  # 广场舞 is a dance, not a square
        m = lexicon.place_re.search(text, m.end())
    road = _ROAD.search(text) if _ROAD_END.search(text) else None
    if road is not None and (m is None or road.start() <= m.start()):
        phrase = _trim_place(road.group(1))
        if len(phrase) >= 3 or (len(phrase) == 2 and road.group(2)):
            return phrase + (road.group(2) or "")
    if m is None:
        return None
    start, end = m.start(), m.end()
    before = re.search(r"(?:[东南西北]{1,2}门|村[东西南北]头|小区|村)$", text[max(0, start - 4):start])
    if before and not text[start:end].startswith(before.group(0)):
        start -= len(before.group(0))
    while True:  # 南门 + 停车场, 村东头 + 池塘
        more = lexicon.place_re.match(text, end)
        if more is None:
            break
        end = more.end()
    tail = _PLACE_TAIL.match(text, end)
    if tail:
        end += len(tail.group(0))
    return text[start:end]


_PLACE_TAIL = re.compile(r"门口|旁边|边上|后面|对面|边|口|头(?![发疼痛晕])")
_PLACE_SPLIT = re.compile(r"[的了在是那这个条把被和跟到从去住我你他她们家就也都又还说报]")


def _trim_place(phrase: str) -> str:
    """'住在通仙路' → '通仙路': keep the name after the last function word."""
    pieces = _PLACE_SPLIT.split(phrase)
    return pieces[-1] if pieces else phrase


# -- kinds -----------------------------------------------------------------------------------------

_ACK_STRIP = re.compile(r"[\s,，。.!！~～、…\-—:：;；()（）\[\]【】]+")
_QUERY_RE = re.compile("|".join(map(re.escape, sorted(QUERY_CUES, key=len, reverse=True))))
_REF_RE = re.compile("|".join(map(re.escape, REFERENCE_CUES)))
_FIXED_RE = re.compile("|".join(map(re.escape, FIXED_CUES)))
_NOTICE_RE = re.compile("|".join(map(re.escape, NOTICE_CUES)))
_HELP_RE = re.compile("|".join(map(re.escape, HELP_CUES)))
_ME_TOO_RE = re.compile("|".join(map(re.escape, ME_TOO_CUES)))
_STILL_AFTER = re.compile(r"(还是|依然|仍然)(没|不|坏)")
_NEGATED_FIXED = re.compile(r"(没|未|还没|并没|没有|不)(修好|好|解决|恢复|来电|来水|通)")
_STILL_BROKEN = re.compile(r"(还是|又|仍然|依然|依旧|还在|又开始|怎么又)")
_ACK_HEAD = re.compile(r"^(收到|已阅|好的|已收到|知道了|明白|ok|已转发)[\s,，。!！~～]*")
_COMPLAINT_RE = re.compile("|".join(map(re.escape, COMPLAINT_CUES)))
_THANKS_HEAD = re.compile(r"^(谢谢|感谢|多谢|辛苦)")
_STRONG_QUERY = frozenset((
    "修了没", "修好没", "修了吗", "修好了吗", "好了没", "弄好没", "处理了没", "处理了吗", "怎么样了", "进度",
    "有人管吗", "有人管没", "什么时候修", "还要等多久", "还没人来", "还没有人来", "办好了没", "查询", "批下来",
    "有结果", "有消息", "有下文", "到哪了", "咋样了", "跟进吗", "什么时候有人来", "到哪一步", "落实了没", "有没有下文", "没人回", "还没回复", "查一下"))
_OVER = re.compile(r"已经(?:处理|修|找到|回|解决|没事)|找到了|回家了|虚惊|原来是|处理好了")
_EVENT_NOTICE = re.compile(r"讲座|演练|培训|宣传日|(?:下周|明天|后天|周[一二三四五六日天])[^。！？\n]{0,6}来检查")
_QUESTION_INFO = re.compile(r"(请问|怎么|如何|哪里|在哪|什么时候|几点|需要什么|能不能办|可以办|多少钱|要带|截止)")


_NO_CONTEXT = ParseContext()
_NOWHERE = Location()
_AD_WORDS = frozenset(("红包", "拼多多", "砍一刀", "帮我点", "投票", "助力", "转发抽奖", "优惠", "特价", "团购", "代购", "微商",
                       "加我微信", "扫码", "秒杀", "出售", "转让", "招聘", "兼职", "免费领"))  # chat words of an advert


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How sure the parser must be (config.yaml `review:`): `ticket` and up opens a ticket and answers in the group;
    `review` up to `ticket` holds a likely report for a leader; a possibly urgent message from `urgent_review` up
    goes to a leader at once."""

    ticket: float = 0.75
    review: float = 0.25
    urgent_review: float = 0.2


_DEFAULT_THRESHOLDS = Thresholds()
CONVENTION = ParseContext(notice_pending=True)  # docs/labelling.md: "assume a notice was sent to the group lately"
_NO_NOTICE = "（没有待确认的通知）"  # a bare "好的" with no notice in the group: nothing to acknowledge
URGENT_RULE_FLOOR = 0.05  # a danger the rules see is held for a leader unless the model gives it less than this
URGENT_MODEL = 0.3  # the learned urgency head's probability from which a report is urgent (recall first)
_USE_DEFAULT_MODEL = object()


def parse(text: str, context: ParseContext | None = None, lexicon: Lexicon | None = None,
          thresholds: Thresholds | None = None, model: Any = _USE_DEFAULT_MODEL) -> ParseResult:
    """Decide kind, category, urgency and location of one message, and whether the bot may open a ticket on its
    own (`ticket`) or should ask a leader (`review`). Never raises for any str."""
    try:
        context = context or _NO_CONTEXT
        lexicon = lexicon or Lexicon.default()
        text = prepare_text(text, lexicon)
        if model is _USE_DEFAULT_MODEL:
            model = default_model()
        reading = context if model is None else CONVENTION  # the rules alone read the group's own state
        return decide(rules(text, reading, lexicon), text, context, thresholds or _DEFAULT_THRESHOLDS, model, lexicon)
    except Exception as exc:  # pragma: no cover - a last guard: a parser bug must never crash the bot
        return ParseResult("chat", None, None, Location(), (f"解析出错：{type(exc).__name__}",), 0.0)


def prepare_text(raw: str, lexicon: Lexicon) -> str:
    """The text the parser reads: cut to MAX_CHARS, valid UTF-8, normalised, community aliases applied."""
    if not isinstance(raw, str):
        raw = str(raw)
    text = normalize(raw[:MAX_CHARS].encode("utf-8", "replace").decode("utf-8"))
    if lexicon.alias_re is not None:
        text = lexicon.alias_re.sub(lambda m: lexicon.aliases[m.group(0)], text)
    return text


def decide(rule: ParseResult, text: str, context: ParseContext, thresholds: Thresholds, model: Any,
           lexicon: Lexicon | None = None) -> ParseResult:
    """The rules' verdict weighed by the learned model (model.py): the final kind, category, urgency, and whether
    the bot is sure enough to open a ticket by itself. Without a model the rules decide alone.

    With a model, `rule` is what the rules make of the text under the labelling convention (CONVENTION: a notice
    was sent to the group lately), so the same words get the same reading whatever the group's state; the state
    decides one thing only: with no notice awaiting replies, an acknowledgement the rules would not call one
    there (a bare "好的", 👌) is chat — there is nothing to acknowledge."""
    if model is None:
        return replace(rule, ticket=rule.kind == "report", review=False)
    if rule.explanation and rule.explanation[0] == "空消息或只有标点":
        return rule
    pred = model.predict_message(text, rule)
    p_report = pred.kind["report"]
    kind = max(pred.kind, key=pred.kind.__getitem__)
    if kind == "ack" and not context.notice_pending:
        here = rules(text, context, lexicon or Lexicon.default())
        if here.kind != "ack":
            kind, rule = "chat", here  # an acknowledgement needs something to acknowledge
    urgent_rule = rule.kind == "report" and rule.urgency == "urgent"
    urgent_signal = urgent_rule or pred.urgent >= URGENT_MODEL
    if kind != "report" and (p_report >= thresholds.review or (urgent_rule and p_report >= URGENT_RULE_FLOOR)):
        kind = "report"  # recall first: a danger the rules see goes to a leader unless the model is sure it is not
    elif kind != "report" and urgent_signal and p_report >= thresholds.urgent_review:
        kind = "report"
    why = [f"模型: {kind} {pred.kind[kind]:.2f}" + "".join(f"『{r}』" for r in pred.reasons)]
    if kind != "report":
        return ParseResult(kind, None, None, rule.location, (*why, *rule.explanation), pred.kind[kind],
                           me_too=False, ticket_ref=rule.ticket_ref)
    category = max(pred.category, key=pred.category.__getitem__)
    if rule.kind == "report" and rule.category and pred.category.get(rule.category, 0) >= pred.category[category] - 0.1:
        category = rule.category  # near a tie the rules' reading of the words wins
    if category == "inquiry":
        urgency = "low"
    elif urgent_signal:
        urgency = "urgent"
    elif rule.urgency == "low":
        urgency = "low"
    else:
        urgency = "normal"
    ticket = p_report >= thresholds.ticket
    why.append(f"类别 {category} {pred.category[category]:.2f}; 紧急 {pred.urgent:.2f}")
    return ParseResult("report", category, urgency, rule.location, (*why, *rule.explanation), p_report,
                       me_too=rule.me_too, ticket_ref=rule.ticket_ref, ticket=ticket, review=not ticket)


def rules(text: str, context: ParseContext, lexicon: Lexicon) -> ParseResult:
    """What the hand-written rules make of an already prepared text (prepare_text)."""
    stripped = _ACK_STRIP.sub("", text)
    why: list[str] = []
    ticket_ref = None
    t = _TICKET.search(text) if _THREE_DIGITS.search(text) else None  # a ticket number has three digits or more
    if t:
        ticket_ref = t.group(1) or t.group(2)

    if not stripped:
        return ParseResult("chat", None, None, _NOWHERE, ("空消息或只有标点",), 0.9, ticket_ref=ticket_ref)

    me_too = _ME_TOO_RE.search(text) is not None
    # pure acknowledgement ("收到", "已阅👌", "好的 已转发给租客"); weak ones ("好的", 👌) only for a pending notice
    if not me_too and (stripped in lexicon.ack or _all_ack(stripped, lexicon)):
        strong = any(word in stripped for word in STRONG_ACK)
        if strong or context.notice_pending:
            conf = 0.95 if context.notice_pending else 0.8
            return ParseResult("ack", None, None, _NOWHERE, (f"确认用语『{stripped[:12]}』",), conf)
        return ParseResult("chat", None, None, _NOWHERE, (f"应答用语『{stripped[:12]}』{_NO_NOTICE}",), 0.7)
    if _EMOJI_ONLY.match(stripped) and not stripped.isdigit() and not me_too:
        return ParseResult("ack" if context.notice_pending and stripped in lexicon.ack else "chat", None, None,
                           _NOWHERE, ("只有表情或符号",), 0.6)

    scores: dict[str, int] = {}
    hits: dict[str, list[str]] = {}
    for word in lexicon.category_re.findall(text):
        for category, weight in lexicon.category_of[word]:
            scores[category] = scores.get(category, 0) + weight
            hits.setdefault(category, []).append(word)
    urgent_hits = lexicon.urgent_re.findall(text)
    urgent_score = sum(map(lexicon.urgent.__getitem__, urgent_hits)) if urgent_hits else 0
    settled = settled_event(text)
    found = [] if settled else situations(text)  # emergencies described as situations
    danger = max((s.weight for s, _ in found), default=0)
    low_hits = lexicon.low_re.findall(text)
    chat_hits = lexicon.chat_re.findall(text)
    fixed = _FIXED_RE.search(text) is not None and any(
        text[max(0, m.start() - 1):m.start()] not in ("不", "没", "未") for m in _FIXED_RE.finditer(text)) \
        and _NEGATED_FIXED.search(text) is None
    query = _QUERY_RE.search(text)
    help_cue = _HELP_RE.search(text)
    complaint = _COMPLAINT_RE.search(text)
    still = _STILL_BROKEN.search(text) is not None
    location, loc_why = extract_location(text, lexicon)
    best = max(scores.values(), default=0)

    # forwarded notices and ads are chat, not reports
    notice_like = (len(text) > 40 and _NOTICE_RE.search(text[:12]) is not None) or (
        len(text) > 20 and _NOTICE_TITLE.match(text) is not None)
    if notice_like:
        return ParseResult("chat", None, None, location, ("转发的通知/公告",), 0.7, ticket_ref=ticket_ref)
    ad_like = not _AD_WORDS.isdisjoint(chat_hits)
    if ad_like and best < 5:
        return ParseResult("chat", None, None, location, (f"广告/红包『{chat_hits[0]}』",), 0.8,
                           ticket_ref=ticket_ref)

    # progress questions about an earlier report or application
    if query is None and ticket_ref is not None and best < 3:
        query = _TICKET.search(text)
    if query is not None and (_REF_RE.search(text) or ticket_ref or query.group(0) in _STRONG_QUERY):
        new_facts = (urgent_hits or _STILL_AFTER.search(text, query.end())) and not _REF_RE.search(text)
        if not new_facts:
            return ParseResult("query", None, None, location, (f"询问进度『{query.group(0)}』",), 0.85,
                               ticket_ref=ticket_ref)

    # "修好了 谢谢" — something already fixed, said with thanks or sarcasm; "找到了，虚惊一场"
    if settled and not still and not help_cue and _OVER.search(text):
        return ParseResult("chat", None, None, location, (f"事情已经过去『{settled.group(0)}』",), 0.75,
                           ticket_ref=ticket_ref)
    if fixed and not still and not urgent_hits:
        return ParseResult("chat", None, None, location, ("说已经修好/解决",), 0.8, ticket_ref=ticket_ref)

    ack_head = _ACK_HEAD.match(text)
    strong_head = ack_head is not None and (context.notice_pending or ack_head.group(1) not in ("好的", "ok", "明白", "知道了"))
    if strong_head and urgent_score < 2 and not me_too and _PASS_ON.search(text, ack_head.end()) and best < 3:
        return ParseResult("ack", None, None, location, (f"确认用语『{ack_head.group(1)}』并转告他人",), 0.75)
    if strong_head and best < 2 and not urgent_hits and not help_cue and not me_too:
        return ParseResult("ack", None, None, location, (f"确认用语『{ack_head.group(1)}』",), 0.75)
    if _THANKS_HEAD.match(text) and best < 4 and not urgent_hits:
        return ParseResult("chat", None, None, location, ("以致谢开头",), 0.75, ticket_ref=ticket_ref)
    reportish = best >= 2 or (best >= 1 and (help_cue or me_too or location.building or location.place))
    if me_too and not reportish and len(stripped) <= 20:
        reportish = True  # "+1 我家也是": joins whatever was just reported
    if urgent_score >= 2 or danger >= 3:
        reportish = True
    if _EVENT_NOTICE.search(text) and not danger and not help_cue and best < 4:
        return ParseResult("chat", None, None, location, ("活动或上门通知",), 0.7, ticket_ref=ticket_ref)
    if chat_hits and best < 2 and not urgent_hits and not me_too:
        return ParseResult("chat", None, None, location, (f"闲聊/致谢『{chat_hits[0]}』",), 0.75,
                           ticket_ref=ticket_ref)
    if not reportish:
        if help_cue and len(stripped) >= 6:
            reportish = True
            why.append(f"求助用语『{help_cue.group(0)}』")
        elif complaint:
            reportish = True
            why.append(f"抱怨用语『{complaint.group(0)}』")
        else:
            conf = 0.6 if best else 0.7
            return ParseResult("chat", None, None, location, ("没有问题或求助的用语",), conf, ticket_ref=ticket_ref)

    # a report: category, urgency
    if scores:
        category = max(scores, key=lambda c: (scores[c], -PRIORITY.index(c)))
        why.append(f"类别 {category}: 命中" + "".join(f"『{h}』" for h in dict.fromkeys(hits[category])))
    else:
        category = "other"
        why.append("类别 other: 没有命中类别词")
    strongest = next((s for s, _ in sorted(found, key=lambda f: -f[0].weight) if s.category != "other"),
                     None) if found else None
    if strongest is not None and strongest.weight >= 3 and best < 5 and category != strongest.category:
        why.append(f"类别 {strongest.category}: 情形『{strongest.name}』")
        category = strongest.category
    if not danger and (category == "inquiry" or (
            _QUESTION_INFO.search(text) and scores.get("inquiry", 0) >= scores.get(category, 0))):
        category = "inquiry"
    if category in ("repair", "sanitation", "dispute", "other") and scores.get("assistance", 0) >= 3 and any(
            w in text for w in ("老人", "独居", "打不通", "联系不上", "没人开门", "走失")):
        category = "assistance"
    if category == "inquiry":
        urgency = "low"
        why.append("咨询类一律不急")
    elif danger >= 3:
        urgency = "urgent"
        why.append("紧急: " + "、".join(f"{s.name}『{words}』" for s, words in found))
    elif not settled and urgent_score >= 2 and not _negated(text, urgent_hits[0]):
        urgency = "urgent"
        why.append("紧急: 命中" + "".join(f"『{h}』" for h in dict.fromkeys(urgent_hits)))
    elif low_hits:
        urgency = "low"
        why.append("不急: 命中" + "".join(f"『{h}』" for h in dict.fromkeys(low_hits)))
    else:
        urgency = "normal"
    if me_too:
        why.append("同样的问题（+1）")
    if ack_head:
        why.append("“收到”之后还说了新问题")
    why.extend(loc_why)
    confidence = min(0.99, 0.55 + 0.08 * best + (0.1 if urgent_hits else 0))
    return ParseResult("report", category, urgency, location, tuple(why), confidence, me_too=me_too,
                       ticket_ref=ticket_ref)


def _all_ack(stripped: str, lexicon: Lexicon) -> bool:
    """'收到👌', '好的谢谢', '已阅已转发': made only of acknowledgement words and emoji."""
    if len(stripped) > 16:
        return False
    rest = lexicon.ack_filler_re.sub("", stripped)
    return rest == "" or _EMOJI_ONLY.match(rest) is not None and len(rest) <= 3


def _negated(text: str, word: str) -> bool:
    index = text.find(word)
    return index > 0 and text[max(0, index - 2):index] in ("没有", "不是") or text[index - 1:index] == "没"
