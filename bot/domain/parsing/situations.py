"""Emergencies described as situations, not fixed words: a danger plus what makes it happen now.

Residents rarely use the same words twice ("窗户往外窜火", "一屋子烟往外飘", "电线耷拉到地上 小孩在旁边玩").
Each situation is a small pattern over normalised text: a thing (fire, gas, wire, water, a person, an
elderly relative ...) near a sign that it is happening now (flames, smell, sparks, no answer ...). A match
names the situation, its category and its weight; the explanation quotes the words that matched.
Past or settled events ("已经找到了", "上周着火的事", "消防演练") are recognised separately and make nothing urgent.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from re import _constants as _c, _parser  # the standard parser of regular expressions: what a pattern needs
from typing import Any

# who may be in danger or missing
_PERSON = (r"(?:老人|老太太|老太|老头|老爷子|老大爷|大爷|大妈|阿婆|阿公|奶奶|爷爷|外婆|外公|姥姥|姥爷|老妈|老爸|我妈|我爸|"
           r"母亲|父亲|舅舅|姑姑|姨妈|叔叔|伯伯|张伯|李伯|王伯|老伯|阿姨|婆婆|公公|老公|老婆|孩子|小孩|娃|女儿|儿子|"
           r"独居|一个人住|一个人在家|邻居|对门|隔壁)")
_NO_ANSWER = (r"(?:联系不[上到]|打不通|不接|没人接|关机|没人应|没声音|没动静|没反应|没有反应|没回来|没到家|没回家|"
              r"走丢|走失|不见了|找不到|没出门|没开过灯|叫门没|敲门没|敲不开|失联|不答应|无人应|无人接|不见人影|没见人|"
              r"没见着人|没看到人|没看见人|没露面|未露面|没下楼|没人开门|叫不应|喊不应|冇人应|冇人接|唔接|电话也不回)")
# living alone: whoever says so and says nobody answers, anywhere in the message, is worried for a reason
_ALONE = r"(?:独居|一个人住|自己住|自己一个人|独自|孤寡|空巢|一个人生活|一个人过)"
_NOT_SERVICE = r"(?:(?!物业|房东|客服|师傅|维修|公司|中介|快递)[^\n])"  # "the landlord does not answer" is no alarm
_NEAR = r"[^。！？!?\n]{0,30}?"


@dataclass(frozen=True, slots=True)
class Situation:
    name: str  # shown in the explanation
    category: str
    weight: int
    pattern: re.Pattern[str]


def _s(name: str, category: str, weight: int, pattern: str) -> Situation:
    return Situation(name, category, weight, re.compile(pattern))


SITUATIONS: tuple[Situation, ...] = (
    _s("起火", "safety", 3, r"窜火|冒火|火很大|火势|火越|烧起来|烧着|烧到|点着了|爆燃|自燃|着了火|"
                             r"(?:油锅|锅|车|房子?|电池|电瓶|充电)[^。！？\n]{0,6}(?:着了|起火|炸了)|火苗|火光|明火"),
    _s("浓烟", "safety", 3, r"一屋子烟|烟往|全是烟|好多烟|浓烟|黑烟|冒白烟|冒烟|烟雾报警器[^。！？\n]{0,6}(?:叫|响)"),
    _s("燃气", "safety", 3, r"(?:燃气|天然气)[^。！？\n]{0,10}(?:味|漏|泄|喷|呲|嘶|关不上)|臭鸡蛋味|气罐[^。！？\n]{0,8}(?:喷|漏|关不上)|"
                             r"(?:一屋子|满屋|整[个栋]楼?[^。！？\n]{0,4}都是)[^。！？\n]{0,4}(?:气味|味道)|熄火[^。！？\n]{0,12}气味"),
    _s("电线", "safety", 3, r"(?:电线|电箱|电表箱|配电箱|插座|线路|电缆|变压器|线)[^。！？\n]{0,10}"
                             r"(?:火|冒烟|焦|炸|滋滋|噼|打火|断了|掉在|耷拉|垂到|落地|拖在地)"),
    _s("爆管漏水", "repair", 3, r"(?:水管|主水管|暖气管|管子|管道|水箱)[^。！？\n]{0,4}(?:爆|崩|破|裂|断)|"
                                r"往下流[^。！？\n]{0,10}(?:灯|电)"),
    _s("水淹", "safety", 3, r"水[^。！？\n]{0,6}(?:哗哗|漫|没过|倒灌|喷)|进水[^。！？\n]{0,10}(?:涨|淹|插座|电)|"
                            r"倒灌|淹到"),
    _s("有人倒下", "health", 3, r"倒在地|倒地|晕过去|晕倒|昏过去|昏迷|不省人事|叫(?:他|她|了)?没反应|叫不醒|叫不答应|"
                                r"没什么反应|一动不动|抽搐|抽筋|口吐白沫|嘴歪|说话含糊|胸口(?:疼|痛|闷)|心口(?:疼|痛)|"
                                r"喘不|喘气很急|噎着|噎住|吞了|卡在喉咙|吐血|血止不住|骨折|变形了|喝了农药|中毒|"
                                r"身上都凉|没气了|没呼吸|躺着不动|嘴唇[^。！？\n]{0,3}紫|脸色发白|满头大汗"),
    _s("有人摔伤", "health", 3, r"(?:摔|跌)下来|人[^。！？\n]{0,4}掉下来|从[^。！？\n]{0,8}摔|头磕破|磕破了头|摔[^。！？\n]{0,6}(?:起不来|血)"),
    _s("老人或家人失联", "assistance", 3, _PERSON + r"(?:(?!物业|房东|客服|师傅|维修|公司|中介|快递)[^。！？!?\n]){0,30}?"
       + _NO_ANSWER),
    _s("失联", "assistance", 3, _NO_ANSWER + _NEAR + r"(?:谁帮忙|帮忙去|上门看|去看看|敲下门|急疯|报警)"),
    _s("独居者无应答", "assistance", 3, _ALONE + _NOT_SERVICE + r"{0,90}?" + _NO_ANSWER + "|"
       + _NO_ANSWER + _NOT_SERVICE + r"{0,60}?" + _ALONE),
    _s("打斗", "security", 3, r"打架|打人|追着[^。！？\n]{0,4}打|砍人|持刀|拿刀|拿着刀|菜刀|钢管|拿棍|动手了|打老婆|"
                              r"打孩子|喊救命|拉走|抢孩子|跟着[^。！？\n]{0,8}(?:小孩|孩子)"),
    _s("入室或盗窃进行中", "security", 3, r"(?:正在|还在|现在)[^。！？\n]{0,4}(?:撬|砸|偷)|在(?:撬|砸|偷)|爬进去|翻窗|"
                                         r"(?:撬|砸|偷)[^。！？\n]{0,10}(?:就现在|还在里面|人还在)"),
    _s("有人被困", "repair", 3, r"(?:困|关|卡)[^。！？\n]{0,8}(?:电梯|里面)|电梯[^。！？\n]{0,12}"
                                r"(?:卡在|关着|困|往下掉|掉了|下坠|冒烟|打不开)"),
    _s("被锁或困住", "safety", 3, r"(?:被锁|锁在|被关在|困在)[^。！？\n]{0,10}(?:里|室|屋|间)"),
    _s("坠物或倒塌", "safety", 3, r"(?:快掉下来|往下掉|掉下来一个|砸到|砸伤|砸坏|要倒了|塌了|倒了压|往下滑|滑坡|"
                                  r"劈倒)[^。！？\n]{0,16}(?:人|下面|撤|电线|车)|(?:塌了|倒了)[^。！？\n]{0,10}(?:有人|住着人|人在)"),
    _s("溺水或坠落危险", "safety", 3, r"掉水里|落水|溺水|扑腾|窗台外|爬到[^。！？\n]{0,6}(?:窗|阳台|栏杆)|往下跳|"
                                      r"坐在(?:楼顶)?边上|掉进去|掉下去了"),
    # general shapes of the same dangers, as strangers wrote them (tune writers of tests/data/writers/)
    _s("认知障碍者走失", "assistance", 3, r"(?:痴呆|阿尔茨海默|认知障碍|记性不好|记性差|糊涂|脑子不清)[^\n]{0,60}?"
       r"(?:出门|出去|走了|走掉|走出|行咗|没回|未归|未返|冇返|不见|找不到|走丢)"),
    _s("孩子在窗边", "safety", 3, r"(?:小孩|孩子|孩童|细路|娃|宝宝|小朋友|男孩|女孩)" + _NEAR +
       r"(?:窗台|窗户边|窗边|窗外|阳台边|栏杆外|护栏外|爬窗|出窗)"),
    _s("几天联系不上", "assistance", 3, r"(?:两|三|好几|几|[0-9])\s*[天日](?:了|都|一直)?[^。！？\n]{0,10}"
       r"(?:没|冇|未|不)(?:接|覆|回|见|下楼|出门|开门|露面|应)"),
    _s("中风迹象", "health", 3, r"嘴(?:巴)?歪|话[^。！？\n]{0,4}(?:讲|说)不清|口齿不清|半边(?:身|脸)|拿不住|手脚发麻|突然说不出话"),
    _s("有人躺着不动", "health", 3, r"(?:躺|瞓|倒|趴|睡)[在咗着喺][^。！？\n]{0,12}(?:不动|冇郁|没动|起不来|起唔|叫不|叫佢|没反应|哼哼)|"
       r"(?:起不来|起唔返身|爬不起来)"),
    _s("水从灯或电器里漏", "safety", 3, r"(?:灯|灯罩|吸顶灯|电箱|插座|开关|电表)[^。！？\n]{0,8}(?:滴水|往下滴|流水|渗水|漏水|出水)|"
       r"(?:滴水|漏水|渗水)[^。！？\n]{0,8}(?:灯|插座|电箱|开关)"),
    _s("尾随孩子", "security", 3, r"(?:跟着|跟住|跟踪|尾随|跟了|跟在)[^。！？\n]{0,12}"
       r"(?:小孩|孩子|细路|学生|女孩|小朋友|放学|闺女|小妞|姑娘)"),
    _s("有人试门", "security", 3, r"(?:拧|扭|试|推)[^。！？\n]{0,6}门把手|逐户[^。！？\n]{0,6}(?:敲|拧|试|推)"),
    _s("水往下流", "repair", 3, r"往下流|往下淌|越流越大|越滴越快|积了一层水|水漫|哗哗"),
    _s("悬着的坠物", "safety", 3, r"(?:瓷砖|瓦片|墙皮|广告牌|招牌|窗框|玻璃|彩钢瓦|铁皮|雨棚|顶棚|遮阳棚|空调外机|花盆|晾衣架)"
       r"[^。！？\n]{0,20}(?:吊在|晃|松了|翘起|悬着|掀起|掀开|刮起|扇来扇去|翻起来|摇摇欲坠|要掉)"
       r"[^\n]{0,30}(?:下面|楼下|底下|有人|小孩|孩子|老人|人走|路过|行人)"),
    _s("中暑迹象", "health", 3, r"中暑|(?:吐|发烫|站不稳|晕乎)[^。！？\n]{0,12}(?:太阳|发烫|站不稳|一身汗)"),
    _s("充电处焦味", "safety", 3, r"(?:糊味|焦味|塑料味|烧焦|胶味)[^。！？\n]{0,20}(?:电动车|充电|电瓶)|"
       r"(?:电动车|充电|电瓶)[^。！？\n]{0,20}(?:糊味|焦味|塑料味|烧焦|胶味)"),
    _s("外墙往下掉", "safety", 3, r"(?:瓷砖|墙皮|外墙|玻璃|窗框|空调外机)[^。！？\n]{0,10}(?:往下落|往下掉|掉下来|落了|掉了两|摇摇)"),
    _s("电梯里有人", "repair", 3, r"电梯[^。！？\n]{0,20}(?:哭|拍门|喊|里面有人|有人在里面)"),
    _s("燃气味", "safety", 3, r"臭鸡蛋|燃气味|液化气味"),
    _s("呼救", "other", 2, r"快来人|救救|快报警|快打(?:110|119|120)|叫救护车|快快快"),
    # the same dangers in more voices (tune writers w44-w49: Wu and Cantonese forms — 仔/勒/浪, 紧/唔/咗 — and
    # the things people name); each is a danger plus a sign that it is happening now, as above
    _s("爆管", "repair", 3, r"爆(?:水管|管|喉)|(?:水管|管道井|管道|水喉)[^。！？\n]{0,6}(?:喷水|飙水|呲水|射水)"),
    _s("冒烟", "safety", 3, r"冒[^。！？\n烟]{0,3}烟|烟雾腾腾|烟好大|好大烟|报消防|叫消防|打消防"),
    _s("被困电梯", "repair", 3, r"电梯[^。！？\n]{0,40}(?:拍门|里[面头边]有(?:人|个)|有人在里|困住|关住|出不来)|"
                                r"电梯[^。！？\n]{0,12}(?:停|卡)[^。！？\n]{0,10}(?:楼|层)[^。！？\n]{0,4}(?:中间|之间|当中)"),
    _s("水深", "safety", 3, r"水[^。！？\n]{0,8}(?:到|过|淹到|没过|浸到)[^。！？\n]{0,4}(?:膝|腰|大腿|小腿|车轮|轮胎|胸)|"
                            r"水浸|成条河|一汪水|成地都系水|满地都是水"),
    _s("叫不醒", "health", 3, r"(?:叫|唤|喊|嗌)[^。！？\n]{0,3}(?:唔醒|勿醒|不醒|没反应|唔应)|手脚冰冷|"
                               r"(?:叫|喊)[^。！？\n]{0,6}名字[^。！？\n]{0,10}(?:不看|不理|没反应|不应)|答非所问|"
                               r"一身冷汗[^。！？\n]{0,10}(?:抖|晕|慌)|冷汗[^。！？\n]{0,6}手[^。！？\n]{0,4}抖"),
    _s("卡喉", "health", 3, r"卡[^。！？\n]{0,4}(?:喉咙|喉咙口|气管|嗓子)|咳[^。！？\n]{0,3}(?:勿|不|唔)出来"),
    _s("喘不上气", "health", 3, r"(?:制氧机|呼吸机)[^。！？\n]{0,20}(?:停|用不了|用无|坏|没电|无电)|"
                                 r"喘得[^。！？\n]{0,8}(?:讲|说)[^。！？\n]{0,6}(?:不|无|勿|唔)"),
    _s("发烫头昏", "health", 3, r"(?:滚烫|发烫|烫得|烧得)[^。！？\n]{0,20}(?:头昏|头晕|迷糊|出勿出|出不出|不出汗)|"
                                 r"(?:头昏|头晕)[^。！？\n]{0,20}(?:滚烫|发烫)"),
    _s("尾随孩子（方言）", "security", 3, r"跟(?:仔|牢|住|着)[^。！？\n]{0,12}(?:小囡|囡囡|细路|伢|学生|背书包)"),
    _s("打斗进行中", "security", 3, r"干起来了|打起来了|抡[^。！？\n]{0,4}(?:酒瓶|棍|凳|刀)|推来推去|推到[^。！？\n]{0,6}(?:台阶|楼梯)边"),
    _s("偷盗进行中", "security", 3, r"(?:撬|偷)紧|撬完一[^。！？\n]{0,2}又一|一[辆架部个]一[辆架部个]地(?:撬|偷)"),
    _s("坠物（一块接一块）", "safety", 3, r"(?:瓦|瓷片|瓷砖|墙皮|砖|花盆|玻璃)[^。！？\n]{0,8}(?:一块(?:接)?一块|一只一只|往下掉|掉下来|咁落|落落来)"
       r"[^\n]{0,30}(?:下面|下头|底下|楼下|脚边|孩子|小囡|细路|人走|行过|走来走去|路过)"),
    _s("路面塌陷", "safety", 3, r"(?:路|路面|地面|堤)[^。！？\n]{0,10}(?:塌|掏空|陷)[^\n]{0,30}(?:差一点|差点|掉下去|有人|摩托|车)"),
    _s("迷路的老人", "assistance", 3, r"(?:家住哪|住哪里|住在哪|哪家的)[^。！？\n]{0,6}(?:说不|讲不|答不|说唔|讲唔)|"
                                      r"(?:秋裤|单衣|光脚|拖鞋)[^。！？\n]{0,10}(?:雪地|雪里|外头转|街上转|转悠)"),
)

# the event is over, past, rehearsed or hypothetical: nothing is happening now
_SETTLED_BEFORE = (r"已经(?:处理|修|找到|回|解决|灭|没事|送医|送到)|找到了|回家了|虚惊|演练|讲座|培训|宣传|"
                   r"上周|上个月|去年|前几天[^。！？\n]{0,12}(?:的事|那次|那个)|")
_SETTLED_AFTER = r"原来是|会不会有危险|万一|有备无患|要不要|过期|新闻|电视上|电视剧|报道|做梦|梦见|梦到"
SETTLED = re.compile(_SETTLED_BEFORE + r"[^。！？\n]{0,8}的事大家|" + _SETTLED_AFTER)
# the same without the one branch that can begin anywhere: every branch then begins with a character, and the
# scan skips in C the positions none begins at. Where 的事大家 is absent that branch cannot match: the same match.
_SETTLED_WORDS = re.compile(_SETTLED_BEFORE + _SETTLED_AFTER)


def settled(text: str) -> re.Match[str] | None:
    """SETTLED.search(text), the same match, faster."""
    return (SETTLED if "的事大家" in text else _SETTLED_WORDS).search(text)


# -- which texts to search -------------------------------------------------------------------------------
# Each pattern needs some characters: 电线 needs one of 电线插变 and one of 火冒焦炸断…; 独居者无应答 one of
# 独自孤空一… Read from the patterns themselves once, at import, these let a text be searched only for the
# situations whose characters it holds — a handful of searches instead of 33, and the same matches.


def _required(items: Any) -> list[frozenset[str]]:
    """Sets of characters a match of a parsed (sub)pattern must contain one of, every set; [] if none is known."""
    out: list[frozenset[str]] = []
    for op, av in items:
        out += _required_of(op, av)
    return out


def _required_of(op: Any, av: Any) -> list[frozenset[str]]:
    if op is _c.LITERAL:
        return [frozenset((chr(av),))]
    if op is _c.IN:
        chars = _class(av)
        return [chars] if chars else []
    if op is _c.SUBPATTERN:
        return [] if av[1] & re.IGNORECASE else _required(av[3])
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        return _required(av[2]) if av[0] >= 1 else []
    if op is _c.BRANCH:
        options = [_required(alternative) for alternative in av[1]]
        return _either(options) if all(options) else []
    return []  # zero width (lookarounds, anchors), ., negated classes, categories: nothing known


def _either(options: list[list[frozenset[str]]]) -> list[frozenset[str]]:
    """What a match of one of several alternatives needs, given what each needs: sets joined across them."""
    if math.prod(map(len, options)) <= 16:  # few: each way of taking one need from every alternative is a need
        return list(dict.fromkeys(frozenset().union(*pick) for pick in itertools.product(*options)))
    union: set[str] = set()  # many (word lists): one set, covering first what most alternatives need
    uncovered = options
    while uncovered:
        counts = Counter(chars for needs in uncovered for chars in dict.fromkeys(needs))
        union |= max(counts, key=lambda chars: (counts[chars], -len(chars)))
        uncovered = [needs for needs in uncovered if not any(chars <= union for chars in needs)]
    return [frozenset(union)]


def _class(items: Any) -> frozenset[str] | None:
    """The characters of a [class], or None when it is negated, has a category (digits, spaces) or a wide range."""
    chars: set[str] = set()
    for kind, value in items:
        if kind is _c.LITERAL:
            chars.add(chr(value))
        elif kind is _c.RANGE and value[1] - value[0] <= 256:
            chars.update(map(chr, range(value[0], value[1] + 1)))
        else:
            return None
    return frozenset(chars)


def _needs(pattern: re.Pattern[str]) -> list[frozenset[str]]:
    if pattern.flags & re.IGNORECASE:
        return []  # a literal would stand for other characters too
    return list(dict.fromkeys(_required(_parser.parse(pattern.pattern, pattern.flags))))


_MAX_NEEDS = 4  # the smallest four sets a situation needs are enough to rule most texts out
_N = len(SITUATIONS)


def _index() -> tuple[dict[str, int], tuple[int, ...]]:
    """Bits for testing all situations at once. Bit k·N + i stands for the k-th set of characters situation i
    needs; a character maps to the bits of the sets it is in. `met[k]`: the situations with no k-th need."""
    by_char: dict[str, int] = {}
    met = [0] * _MAX_NEEDS
    for i, situation in enumerate(SITUATIONS):
        needs = sorted(_needs(situation.pattern), key=len)[:_MAX_NEEDS]
        for k in range(_MAX_NEEDS):
            if k >= len(needs):
                met[k] |= 1 << i
                continue
            for ch in needs[k]:
                by_char[ch] = by_char.get(ch, 0) | 1 << (k * _N + i)
    return by_char, tuple(met)


_BY_CHAR, _MET = _index()
_NEEDED = re.compile("[" + "".join(map(re.escape, sorted(_BY_CHAR))) + "]")  # any character some situation needs


def situations(text: str) -> list[tuple[Situation, str]]:
    """Every situation the (normalised) text describes, with the words that matched."""
    present = 0  # the needed sets of characters this text holds one of
    for ch in set(_NEEDED.findall(text)):
        present |= _BY_CHAR[ch]
    candidates = (1 << _N) - 1  # the situations whose every need is met
    for k, met in enumerate(_MET):
        candidates &= present >> (k * _N) | met
    found = []
    while candidates:
        lowest = candidates & -candidates  # in the order of SITUATIONS
        candidates ^= lowest
        situation = SITUATIONS[lowest.bit_length() - 1]
        match = situation.pattern.search(text)
        if match is not None:
            found.append((situation, match.group(0)))
    return found
