"""微议事: a leader's `#议事` poll, residents' votes in their own words, and the tally by household (pure).

API (the wording lives in `bot.domain.polls_wording`):

    command_kind(text) -> "open" | "result" | "close" | None     #议事 / #议事结果 / #结束议事
    parse_poll_command(text, now, *, default_duration=3 days) -> PollDraft | PollError
    interpret_vote(text, options) -> int | None                  the option number (1 = first), None = not a vote
    tally(votes, households_total, quorum, *, options, closes_at=None) -> PollResult

Command syntax, parts in any order after `#议事` (the question comes first and is what remains):

    #议事 楼道里的旧家具周六统一清走吗？ 1.同意 2.不同意 3.再商量 截止 周五20点 过半数 关联 #1023

- options: "1.xx 2.yy" / "1、xx" / "(1)xx" / "①xx" / "A.xx" / "一、xx" (numbered from 1 or A, in order), one per line
  (with or without marks, under the question), or "选项：xx/yy/zz". None given: 同意 / 不同意 / 再商量 (`DEFAULT_OPTIONS`:
  a resident who is not ready to say yes or no has somewhere to stand). 2 to 9 distinct options, one choice each.
- deadline: `截止` (or 截至) then the `#通知` grammar (周五20点, 明天18:00, 12月5日 20:00, 今晚8点, see bot.domain.fanout)
  or a span (3天后, 三天内, 48小时后); "周五20点截止" too. None given: `now + default_duration`. A past one is refused.
  `now` must be local (the deployment's time zone): a day and a time are read in its zone.
- quorum (参与门槛): 过半数 / 超过半数 (more than half the households), 半数以上 / 三分之二以上 / 2/3以上 (at least that
  share: 以上 includes the figure itself, as in law), 至少20户 / 不少于20户 / 20户以上 / 超过20户. By default it counts
  households that voted; followed by 同意 / 赞成 / 通过 ("过半数同意") it counts the winning option's households instead.
  A share needs the group's household count; without it `quorum_met` is None (unknown).
- ticket link: "关联 #1023" / "关联工单1023".

Votes: one per household (pass the household key, or `member:<id>` for a member whose nickname names none: see
bot.domain.acks.household_key); the latest vote of a household replaces its earlier ones; votes after `closes_at`
are left out. The winner is the option with most households (a plurality); equal tops are a tie (`winner` None).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from math import ceil, floor
from typing import Literal, NamedTuple

from bot.domain.fanout import NoticeSyntaxError, match_when
from bot.domain.stance import interpret_vote

__all__ = ["DEFAULT_OPTIONS", "PollDraft", "PollError", "PollResult", "Quorum", "Vote", "command_kind",
           "interpret_vote", "parse_poll_command", "tally"]

_LOGGER = logging.getLogger(__name__)

DEFAULT_OPTIONS = ("同意", "不同意", "再商量")
DEFAULT_DURATION = timedelta(days=3)
MAX_OPTIONS = 9
DEADLINE_HELP = "截止时间的写法：截止 周五20点、截止 明天18:00、截止 12月5日 20:00、截止 今晚8点、截止 3天后。"
USAGE = ("写法：#议事 问题 [1.选项 2.选项 …] [截止 周五20点] [过半数 / 至少20户] [关联 #工单号]；"
         "不写选项默认为 同意/不同意/再商量，不写截止默认3天。")


@dataclass(frozen=True, slots=True)
class Quorum:
    """How many households a poll needs: a fixed number or a share of the group, of voters or of the winner's."""

    min_households: int | None = None
    share: Fraction | None = None
    strict: bool = False  # 过半数: more than the share, not equal to it
    support: bool = False  # 过半数同意: the winning option needs it, not the turnout

    def needed(self, households_total: int | None) -> int | None:
        """Households needed, or None when a share cannot be turned into a number (no household count)."""
        if self.min_households is not None:
            return self.min_households
        if self.share is None or households_total is None:
            return None
        exact = households_total * self.share
        return floor(exact) + 1 if self.strict else ceil(exact)

    def describe(self) -> str:
        """'过半数住户参与', '至少 20 户同意', '三分之二以上住户参与'."""
        if self.min_households is not None:
            head = f"至少 {self.min_households} 户"
        elif self.share == Fraction(1, 2):
            head = "过半数住户" if self.strict else "半数以上住户"
        else:
            head = f"{'超过' if self.strict else ''}{self.share}{'' if self.strict else '以上'}住户"
        return head + ("同意" if self.support else "参与")


@dataclass(frozen=True, slots=True)
class PollDraft:
    """What a `#议事` command asks: the question, its options, when it closes, and what makes it count."""

    question: str
    options: tuple[str, ...] = DEFAULT_OPTIONS
    deadline: datetime | None = None
    deadline_given: bool = False  # False: the default duration was applied
    quorum: Quorum | None = None
    ticket_no: int | None = None


@dataclass(frozen=True, slots=True)
class PollError:
    """The command cannot be understood; `message` tells the leader how to write it (Chinese)."""

    message: str


class Vote(NamedTuple):
    """One answer: who (household key or `member:<id>`), the option number (1 = first), when."""

    voter: str
    option: int
    at: datetime


@dataclass(frozen=True, slots=True)
class PollResult:
    """A tally: households per option, turnout, the quorum, and the winner or the tie."""

    options: tuple[str, ...]
    counts: tuple[int, ...]  # households per option, in option order
    voted: int
    households_total: int | None
    quorum: Quorum | None
    needed: int | None  # households the quorum asks for (None: no quorum, or a share of an unknown total)
    quorum_met: bool | None  # None: no quorum → True; unknown total for a share → None
    winner: int | None  # option number, None when nobody voted or on a tie
    tied: tuple[int, ...] = ()  # option numbers sharing the top count when it is a tie

    @property
    def turnout(self) -> str:
        """'23/40 户', or '23 户' when the group's household count is unknown."""
        return f"{self.voted}/{self.households_total} 户" if self.households_total else f"{self.voted} 户"

    @property
    def share_voted(self) -> float | None:
        return self.voted / self.households_total if self.households_total else None

    @property
    def shortfall(self) -> int | None:
        """Households still missing to reach the quorum (0 when reached, None when not computable)."""
        if self.needed is None:
            return None
        have = max(self.counts, default=0) if self.quorum and self.quorum.support else self.voted
        return max(0, self.needed - have)

    @property
    def decided(self) -> bool:
        """A single winner and a quorum not known to be missed."""
        return self.winner is not None and self.quorum_met is not False


def command_kind(text: str) -> Literal["open", "result", "close"] | None:
    """Which poll command a message is: `#议事 …` opens, `#议事结果` asks for the figures, `#结束议事` closes early."""
    head = (text or "").lstrip().replace("＃", "#")
    if re.match(r"#(?:微)?议事\s*结果", head):
        return "result"
    if re.match(r"#(?:结束(?:微)?议事|(?:微)?议事\s*结束)", head):
        return "close"
    if re.match(r"#(?:微)?议事", head):  # "#议事楼道…" without a space too
        return "open"
    return None


_PREFIX = re.compile(r"^\s*[#＃](?:微)?议事[:：]?\s*")
_TICKET = re.compile(r"[，,；;\s]*关联\s*(?:工单)?\s*[#＃]?\s*(\d{1,9})(?:\s*号?工单)?")
_CN_NUM = "零一二两三四五六七八九十"
_NUM = rf"(\d{{1,4}}|[{_CN_NUM}百]{{1,4}})"
_SHARE = r"(过半数?(?![个月年天夜程场])|超过半数|超过一半|半数以上|一半以上|超过(?:[一二三四五六七八九十]分之[一二三四五六七八九]|\d/\d)|" \
         r"(?:[一二三四五六七八九十]分之[一二三四五六七八九]|\d/\d)以上)"
_QUORUM = re.compile(
    r"[，,；;\s(（]*(?:需要?|须|要|必须)?\s*"
    rf"(?:{_SHARE}|(至少|不少于|最少|起码|超过|多于)\s*{_NUM}\s*户|{_NUM}\s*户(?:及)?以上)"
    r"(?:的)?(?:住户|户|家庭|居民)?(?:参与|参加|投票|表决|回复)?(同意|赞成|通过)?(?:才)?(?:有效|算数|通过)?[)）]?")
_SPAN = re.compile(rf"{_NUM}\s*(天|日|个?小时)\s*(?:后|之后|以后|内|以内|之内)?")
_DEADLINE_WORD = re.compile(r"截[止至][:：]?\s*")
_CUT = "，,；;。\\s"
_MARK = re.compile(
    r"(?:(?<=^)|(?<=[\s，,；;。？?！!:：]))"
    r"(?:([1-9])(?!\d)\s*[.、．:：)）]|[(（]([1-9])[)）]|([①-⑨])|([A-Ia-i])\s*[.、．:：)）]|([一二三四五六七八九])\s*、)\s*")
_LIST = re.compile(r"[，,；;\s]*选项[:：]\s*(.+)$", re.S)


def _cn_number(word: str) -> int:
    """'20', '二十', '两', '一百' → int (-1 when it is not a number)."""
    if word.isdigit():
        return int(word)
    word = word.replace("两", "二")
    digits = "零一二三四五六七八九"
    total, rest = 0, word
    if "百" in rest:
        hundreds, _, rest = rest.partition("百")
        total += (digits.index(hundreds) if hundreds else 1) * 100
    if "十" in rest:
        tens, _, rest = rest.partition("十")
        total += (digits.index(tens) if tens else 1) * 10
    if rest:
        if len(rest) != 1 or rest not in digits:
            return -1
        total += digits.index(rest)
    return total


def _share(word: str) -> tuple[Fraction, bool]:
    strict = word.startswith(("过", "超过"))
    if "半" in word:
        return Fraction(1, 2), strict
    if "/" in word:
        num, den = re.search(r"(\d)/(\d)", word).groups()
        return Fraction(int(num), int(den)), strict
    den, num = re.search(r"([一二三四五六七八九十])分之([一二三四五六七八九])", word).groups()
    return Fraction(_cn_number(num), _cn_number(den)), strict


def _take_quorum(text: str) -> tuple[Quorum | None, str]:
    m = _QUORUM.search(text)
    if m is None:
        return None, text
    share_word, bound, bound_num, above_num, support_word = m.groups()
    support = support_word is not None
    if share_word:
        share, strict = _share(share_word)
        if not 0 < share <= 1:
            return None, text
        quorum = Quorum(share=share, strict=strict, support=support)
    else:
        number = _cn_number(bound_num or above_num)
        if number <= 0:
            return None, text
        quorum = Quorum(min_households=number + (1 if bound in ("超过", "多于") else 0), support=support)
    return quorum, text[:m.start()] + " " + text[m.end():]


def _take_deadline(text: str, now: datetime) -> tuple[datetime | None, str]:
    """The `截止 …` phrase (or `… 截止`), removed from the text. Raises NoticeSyntaxError for an impossible one."""
    for m in _DEADLINE_WORD.finditer(text):
        at = m.end()
        span = _SPAN.match(text, at)
        if span:
            return _span(span, now), text[:m.start()] + " " + text[span.end():]
        found = match_when(text, at, now)
        if found:
            return found[0], text[:m.start()] + " " + text[found[1]:]
        # "周五20点截止": the phrase ends where the keyword starts
        for start in [0, *(i + 1 for i, ch in enumerate(text[:m.start()]) if ch in "，,；; \t\n")]:
            span = _SPAN.match(text, start)
            if span and span.end() == len(text[:m.start()].rstrip()):
                return _span(span, now), text[:start] + " " + text[m.end():]
            found = match_when(text, start, now)
            if found and found[1] == len(text[:m.start()].rstrip()) and found[1] > start:
                return found[0], text[:start] + " " + text[m.end():]
        raise NoticeSyntaxError("没看懂截止时间。")
    return None, text


def _span(m: re.Match[str], now: datetime) -> datetime:
    number = _cn_number(m.group(1))
    if number <= 0:
        raise NoticeSyntaxError("没看懂截止时间。")
    return now + (timedelta(hours=number) if "时" in m.group(2) else timedelta(days=number))


def _clean_option(text: str) -> str:
    return text.strip().strip("，,；;。.、/ \t").strip()


def _marked_options(text: str) -> tuple[str, list[str]] | None:
    """Question and options when the text numbers its options 1., A., ①, 一、 from the first, in order."""
    marks = []
    for m in _MARK.finditer(text):
        digit, paren, circled, letter, chinese = m.groups()
        if digit or paren:
            n = int(digit or paren)
        elif circled:
            n = "①②③④⑤⑥⑦⑧⑨".index(circled) + 1
        elif letter:
            n = "abcdefghi".index(letter.lower()) + 1
        else:
            n = "一二三四五六七八九".index(chinese) + 1
        marks.append((n, m.start(), m.end()))
    chain: list[tuple[int, int, int]] = []
    for n, start, end in marks:
        if n == len(chain) + 1:
            chain.append((n, start, end))
    if len(chain) < 2:
        return None
    bounds = [start for _, start, _ in chain[1:]] + [len(text)]
    options = [_clean_option(text[end:bound]) for (_, _, end), bound in zip(chain, bounds)]
    return text[:chain[0][1]], options


def _line_options(text: str) -> tuple[str, list[str]] | None:
    """Question on the first line, one short option on each following line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 3 or not all(len(line) <= 20 and not re.search(r"[。？?！!]", line) for line in lines[1:]):
        return None
    return lines[0], [_clean_option(line) for line in lines[1:]]


def _split_options(text: str) -> tuple[str, tuple[str, ...]]:
    listed = _LIST.search(text)
    if listed:
        options = [_clean_option(o) for o in re.split(r"[/／、|｜,，;；]", listed.group(1))]
        return text[:listed.start()], tuple(options)
    found = _marked_options(text) or _line_options(text)
    if found:
        return found[0], tuple(found[1])
    return text, DEFAULT_OPTIONS


def parse_poll_command(text: str, now: datetime, *,
                       default_duration: timedelta = DEFAULT_DURATION) -> PollDraft | PollError:
    """A `#议事 …` message as a poll to open, or what is wrong with it (see the module docstring)."""
    if command_kind(text) != "open":
        return PollError("这不是发起议事的命令。" + USAGE)
    rest = _PREFIX.sub("", text, count=1)
    ticket_no = None
    m = _TICKET.search(rest)
    if m:
        ticket_no = int(m.group(1))
        rest = rest[:m.start()] + " " + rest[m.end():]
    quorum, rest = _take_quorum(rest)
    try:
        deadline, rest = _take_deadline(rest, now)
    except NoticeSyntaxError as exc:
        return PollError(str(exc).split("截止时间的写法")[0] + DEADLINE_HELP)
    question, options = _split_options(rest)
    question = re.sub(r"[ \t]+", " ", question).strip().strip("，,；;").strip()
    if not question:
        return PollError("议事的问题是空的。" + USAGE)
    if any(not o for o in options) or len(options) < 2:
        return PollError("至少要两个选项，每个选项不能为空。" + USAGE)
    if len(options) > MAX_OPTIONS:
        return PollError(f"选项最多 {MAX_OPTIONS} 个。")
    if len(set(options)) != len(options):
        return PollError("有重复的选项，请检查。")
    given = deadline is not None
    if deadline is None:
        deadline = now + default_duration
    if deadline <= now:
        return PollError("截止时间已经过了，请检查。")
    return PollDraft(question, options, deadline, given, quorum, ticket_no)


def tally(votes: Iterable[Vote | tuple[str, int, datetime]], households_total: int | None, quorum: Quorum | None, *,
          options: Sequence[str], closes_at: datetime | None = None) -> PollResult:
    """Households per option (the latest vote of each household counts), turnout, quorum and winner."""
    latest: dict[str, tuple[datetime, int]] = {}
    for voter, option, at in votes:
        if not 1 <= option <= len(options):
            _LOGGER.debug("vote for option %s of %s ignored", option, len(options))
            continue
        if closes_at is not None and at > closes_at:
            continue
        if voter not in latest or at >= latest[voter][0]:  # same instant: the one given later wins
            latest[voter] = (at, option)
    counts = [0] * len(options)
    for _, option in latest.values():
        counts[option - 1] += 1
    top = max(counts, default=0)
    leaders = tuple(i + 1 for i, c in enumerate(counts) if c == top) if top else ()
    winner = leaders[0] if len(leaders) == 1 else None
    voted = len(latest)
    needed = quorum.needed(households_total) if quorum else None
    if quorum is None:
        met: bool | None = True
    elif needed is None:
        met = None
    else:
        met = (top if quorum.support else voted) >= needed
    return PollResult(tuple(options), tuple(counts), voted, households_total, quorum, needed, met, winner,
                      leaders if len(leaders) > 1 else ())
