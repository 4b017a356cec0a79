"""A resident's answer to a poll in their own words: an option number, or None when it is not a vote (pure).

`interpret_vote(text, options)` returns the option number (1 = first). It reads, in this order:
- a number: "1", "选2", "①", "1️⃣", "第三个", "投B", "3-201 2" (a leading house number is skipped); a number out of range
  is not a vote;
- an option's own words ("周六上午吧") or a stance that exactly one option stands for: 同意/赞成/支持/没意见/附议/要得
  (yes), 不同意/反对/不行/有意见/使不得 (no), 再商量/再议/考虑考虑 (later), 弃权/都行/随便 (abstain). A negation
  turns a stance round ("不反对" is yes, "不太同意" is no, "没有不同意" is yes); a negated "later" counts for nothing;
- a bare word of assent (可以 / 行 / 中 / 好 / 阔以 / 没毛病) or 👎 only when it is the whole message: in a sentence they
  say nothing about the poll. 收到 / 好的 / 👌 / 👍 / OK are acknowledgements of the announcement, not votes.
A question ("大家同意吗？", "同不同意"), someone else's view ("听说有人反对", "同意楼上") and ordinary chat are not votes.
When a message names two different options, the one after a turn (但是 / 不过 / 还是 / 算了 / 改成) wins; without a turn
it is not counted; a number and words that disagree are not counted either (the bot may ask).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.domain.parsing.lexicon import normalize

YES, NO, DEFER, ABSTAIN = "yes", "no", "defer", "abstain"
_FLIP = {YES: NO, NO: YES}

_STANCES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((stance, re.compile(pattern)) for stance, pattern in (
    (NO, r"不同意|不赞成|不赞同|不支持|不认可|不答应|不愿意|不可以|不合适|不妥|不太好|不中|要不得|使不得|唔同意|唔赞成|"
         r"唔得|坚决不|(?:不要|别)(?:清|弄|搬|动|拆|装|改)|(?<!得)不行|有意见(?!可以|的话|请|就|尽管)|意见很大|反对|不干(?!净)"),
    (YES, r"同意|赞成|赞同|支持|拥护|认同|认可|附议|没(?:什么|啥|有|得)?(?:意见|异议|问题)|无(?:意见|异议)|莫得意见|"
          r"冇(?:意见|问题)|要得|使得|早(?:就)?该|(?:赶紧|早点|快点|尽快)(?:清|弄|搬|处理|办|拉)"),
    (DEFER, r"再(?:商量|议|讨论|研究|想想|看看|考虑|定)|(?:以后|回头|过段时间)再说|再说吧|商量(?:商量|一下|下)|"
            r"考虑(?:考虑|一下|下)|从长计议|暂缓|缓一缓|先放(?:放|一放)|等等再"),
    (ABSTAIN, r"弃权|无所谓|没所谓|都行|都可以|都好|随便|随大流|听大家的|少数服从多数"),
))
_NEGATORS = ("不是很", "不怎么", "不咋", "并不", "不是", "不太", "不大", "没有", "不", "没", "别", "唔", "冇")
_NOT_MINE = re.compile(r"听说|有人|别人|人家|他们|她们|楼上|隔壁")  # someone else's view, not this household's
_TO_SOMEONE = re.compile(r"^(?:楼上|上面|前面|你|他|她)")  # "同意楼上": agrees with a person, not an option
_REFUSED = re.compile(r"^[^,.!?;~。、…]{0,3}?(?:不行|不方便|不可以|不好|不要|没空|不合适)")
_A_NOT_A = re.compile(r"(?<!不)([\u4e00-\u9fff])不\1|是否|与否|有没有|请问|吗|么$|呢$")
_TURN = re.compile(r"但是|不过|可是|还是|算了|改成|改为|改选|改投|最后")
_CLAUSE = re.compile(r"([^,.!?;~。、…\s]+)([,.!?;~。、…\s]*)")
_HOUSE = re.compile(r"^\s*\d{1,4}(?:-\d{1,5}){1,2}(?:室|号)?\s*[:,]?\s*")
_CN = "一二三四五六七八九"
_NUMBER_LEAD = re.compile(
    r"^(?:我家?|我们家?|俺家?|咱家?)?(?P<verb>选|投|支持|选择|改选|改投|改成|改为)?(?P<nth>第)?\s*"
    rf"(?P<n>[1-9]|[{_CN}]|[a-i])(?:号|个|项|号选项|票)?"
    r"(?!\d|[.:]\d|(?:号|个|项)?\s*(?:楼|栋|幢|单元|层|室|点|块|元|人|天|月|日|年|岁|分|%|-|/|[a-z]))")
_NUMBER_ANY = re.compile(rf"(?:选|投|选择|改选|改投)(?:第)?\s*([1-9]|[{_CN}]|[a-i])(?![\da-z楼栋幢单元层室])")
_PARTICLES = "的吧啊呀哈啦了嘞哦噢呗嘛哇"
_BARE_YES = re.compile(rf"^(?:我家?|我们家?|俺家?)?(?:觉得)?(可以|行|中|好|阔以|妥|没毛病)\1*[{_PARTICLES}]*$")
_ACK_ONLY = frozenset({"好的", "好滴", "好嘞", "好哒", "收到", "ok", "okay", "嗯", "嗯嗯"})  # acknowledge the announcement


def _clean(text: str) -> str:
    return _HOUSE.sub("", normalize(text or "").replace("\u20e3", "").replace("\ufe0f", ""), count=1).strip()


def _number(word: str) -> int:
    if word.isdigit():
        return int(word)
    if word in _CN:
        return _CN.index(word) + 1
    return "abcdefghi".index(word) + 1


def _number_vote(text: str, count: int) -> int | None:
    m = _NUMBER_LEAD.match(text)
    if m:
        n = m.group("n")
        rest = text[m.end():].strip(" ,.!~。")
        prefixed = bool(m.group("verb") or m.group("nth"))
        if re.match(r"[\d①-⑨]", rest):
            return None  # "1 2 3": several numbers, no choice
        if n not in _CN or prefixed or not rest or not re.match(r"[\u4e00-\u9fff]", rest):  # not 一样 / 三天
            value = _number(n)
            return value if 1 <= value <= count else None
    m = _NUMBER_ANY.search(text)
    if m:
        value = _number(m.group(1))
        return value if 1 <= value <= count else None
    return None


def stance_of(phrase: str) -> str | None:
    """The stance an option's own words take ('同意' → yes, '不同意' → no, '再商量' → defer), or None."""
    found = _word_marks(_clean(phrase), {}, bare=True)
    stances = {s for _, _, s in found}
    return stances.pop() if len(stances) == 1 else None


def _negated(clause: str, start: int) -> bool:
    return clause[:start].endswith(_NEGATORS)


def _word_marks(clause: str, option_words: dict[str, tuple[int, str | None]], *,
                bare: bool = False) -> list[tuple[int, int, object]]:
    """(start, end, option number or stance) for what one clause says, longest phrase first, no overlaps."""
    found: list[tuple[int, int, object]] = []
    for word, (number, _) in option_words.items():
        for m in re.finditer(re.escape(word), clause):
            found.append((m.start(), m.end(), number))
    for stance, pattern in _STANCES:
        for m in pattern.finditer(clause):
            found.append((m.start(), m.end(), stance))
    # longest first; of equal ones the stance, which a negation can turn round
    found.sort(key=lambda f: (-(f[1] - f[0]), not isinstance(f[2], str), f[0]))
    kept: list[tuple[int, int, object]] = []
    for start, end, what in found:
        if not any(start < e and s < end for s, e, _ in kept):
            kept.append((start, end, what))
    stance_of_number = {number: stance for number, stance in option_words.values()}
    marks = []
    for start, end, what in sorted(kept):
        if _TO_SOMEONE.match(clause[end:]) or _NOT_MINE.search(clause[:start]):
            continue
        if _negated(clause, start):
            if isinstance(what, int):
                what = stance_of_number.get(what)  # "不太同意周六清": against that option's own stance
            if what not in _FLIP:
                continue  # "周六上午不" / "不用再商量": says what is not wanted, not what is
            what = _FLIP[what]
        elif isinstance(what, int) and _REFUSED.match(clause[end:]):
            continue  # "周六上午不行"
        marks.append((start, end, what))
    core = re.sub(r"[\W_]+", "", clause)
    if bare and not marks and _BARE_YES.match(core) and core not in _ACK_ONLY:
        marks.append((0, len(clause), YES))
    return marks


def _word_vote(text: str, options: Sequence[str]) -> int | None:
    stances = [stance_of(o) for o in options]
    option_words = {w: (i + 1, stances[i]) for i, o in enumerate(options) if (w := re.sub(r"[\W_]+", "", _clean(o)))}
    by_stance: dict[str, list[int]] = {}
    for i, stance in enumerate(stances):
        if stance:
            by_stance.setdefault(stance, []).append(i + 1)
    core = re.sub(r"[\W_]+", "", text)
    worded = [m for m in _CLAUSE.finditer(text) if re.sub(r"[\W_]+", "", m.group(1))]
    chosen: list[tuple[int, int]] = []  # (position in the text, option number)
    for m in worded:
        clause, tail = m.group(1), m.group(2)
        if "?" in tail or _A_NOT_A.search(clause):
            continue
        for start, _, what in _word_marks(clause, option_words, bare=len(worded) == 1):
            number = what if isinstance(what, int) else (
                by_stance[what][0] if len(by_stance.get(what, ())) == 1 else None)
            if number is not None:
                chosen.append((m.start() + start, number))
    if not chosen and "👎" in text and not core:
        chosen = [(0, by_stance[NO][0])] if len(by_stance.get(NO, ())) == 1 else []
    numbers = {n for _, n in chosen}
    if len(numbers) == 1:
        return numbers.pop()
    turns = [t.end() for t in _TURN.finditer(text)]
    if turns:
        after = {n for pos, n in chosen if pos >= turns[-1]}
        if len(after) == 1:
            return after.pop()
    return None


def interpret_vote(text: str, options: Sequence[str]) -> int | None:
    """The option number a resident's message votes for (1 = first), or None when it is no vote."""
    cleaned = _clean(text)
    if not cleaned:
        return None
    by_number = _number_vote(cleaned, len(options))
    by_words = _word_vote(cleaned, options)
    if by_number is not None and by_words is not None and by_number != by_words:
        return None
    return by_number if by_number is not None else by_words
