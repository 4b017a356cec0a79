"""The learned part of the parser: linear models over character n-grams, classes of words and the rules' verdict.

The rules (parser.py) say what a message looks like to them; three small linear models then weigh that verdict
against the message's characters — what is being done (kind: report / ack / query / chat), about what (category)
and whether it is urgent. They were trained by `python -m scripts.train_parser` (scikit-learn, logistic
regression) on the tune writers of tests/data/writers/ and the old corpus, and ship as one small file
(`model.npz`). Inference looks up each feature's row, adds, softmax — offline, deterministic, a few microseconds:
the n-gram lookup and the row sums in C (`_grams.c`, built by setup.py where a C compiler is at hand) or, without
it, in numpy, the two the same to the last bit (tests/parsing/test_native.py). The features that decided a message
are named in its explanation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from bot.domain.parsing.lexicon import alternation

try:  # the n-gram lookup and row sums in C (_grams.c, built by `pip install -e .` where a C compiler is at hand)
    from bot.domain.parsing import _grams as _native
except ImportError:  # pragma: no cover - the same answers, to the bit, in numpy
    _native = None

MODEL_FILE = Path(__file__).with_name("model.npz")
KINDS = ("report", "ack", "query", "chat")

_DIGITS = re.compile(r"\d")
_QUIET = ("len",)  # features too plain to explain a decision with
_SPACES = re.compile(r"\s+")


def _length_bucket(n: int) -> str:
    for limit in (3, 6, 12, 25, 50, 100):
        if n < limit:
            return f"len<{limit}"
    return "len>=100"


def _head(explanation: str) -> str:
    """The rule that fired, without the quoted words: '确认用语『收到』' → '确认用语'."""
    for stop in ("『", ":", "：", "（", " "):
        cut = explanation.find(stop)
        if cut > 0:
            explanation = explanation[:cut]
    return explanation[:10]


_TEXT_CHARS = 300
# slice(i, i + 2) and slice(i, i + 3) for every position of a marked text: mapping t.__getitem__ over them cuts
# the 2- and 3-grams in C
_PAIRS = tuple(slice(i, i + 2) for i in range(_TEXT_CHARS + 1))
_TRIPLES = tuple(slice(i, i + 3) for i in range(_TEXT_CHARS))


def text_features(text: str) -> list[str]:
    """Character 1–3-grams of the normalised text with digits folded to 0 and runs of spaces to one."""
    return list(_grams(text))


def _marked(text: str) -> str:
    """The text the n-grams are cut from: digits folded to 0, runs of spaces to one, between ^ and $."""
    return "^" + _SPACES.sub(" ", _DIGITS.sub("0", text[:_TEXT_CHARS])).strip() + "$"


def _grams(text: str) -> Iterator[str]:
    """text_features, one at a time (each gram can be dropped once looked up; a list keeps ~80 alive)."""
    t = _marked(text)
    n = len(t)
    gram = t.__getitem__
    return chain(t, map(gram, _PAIRS[:n - 1]), map(gram, _TRIPLES[:n - 2]))


# An n-gram as one int64: each character is its code point + 1 (1 .. 0x110000, so 21 bits and never 0), a 2-gram
# (a << 21) | b and a 3-gram (a << 42) | (b << 21) | c. No character is 0, so the three lengths fall in disjoint
# ranges ([1, 2**21), [2**21, 2**42), [2**42, 2**63)) and no two n-grams share a key.
_MAX_GRAM = 3


def _gram_keys(t: str) -> np.ndarray:
    """The keys of every 1-, 2- and 3-gram of a marked text (_marked), in _grams' order."""
    c = np.add(np.frombuffer(t.encode("utf-32-le", "surrogatepass"), dtype=np.uint32), 1, dtype=np.int64)
    pairs = (c[:-1] << 21) | c[1:]
    return np.concatenate((c, pairs, (pairs[:-1] << 21) | c[2:]))


def _name_keys(names: list[str], length: int) -> np.ndarray:
    """_gram_keys of n-grams given as strings, all of one length."""
    c = np.add(np.frombuffer("".join(names).encode("utf-32-le", "surrogatepass"), dtype=np.uint32), 1,
               dtype=np.int64).reshape(len(names), length)
    key = c[:, 0]
    for j in range(1, length):
        key = (key << 21) | c[:, j]
    return key


def rule_features(rule: Any) -> list[str]:
    """What the rules made of the message, as features the models weigh. Nothing of the group's state: the model reads
    the same words the same way whether or not a notice awaits replies (the parser reads them as labelling does)."""
    out = [f"R:kind={rule.kind}"]
    if rule.kind == "report":
        out.append(f"R:cat={rule.category}")
        out.append(f"R:urg={rule.urgency}")
    for why in rule.explanation:
        out.append("R:why=" + _head(why))
    if rule.me_too:
        out.append("R:me_too")
    if rule.ticket_ref:
        out.append("R:ref")
    loc = rule.location
    if loc.building or loc.room:
        out.append("R:address")
    if loc.place:
        out.append("R:place")
    return out


# Classes of words, so that what strangers say in words nobody here used still lands on a learned weight: a
# resident whose ceiling "像下雨一样" and one whose "顶子往下淌" both show water + overhead + spreading. The
# models weigh each class and each pair of classes present ("K:water+overhead"); no class decides anything alone.
CONCEPTS: dict[str, tuple[str, ...]] = {
    "now": ("现在", "正在", "还在", "这会儿", "这会", "此刻", "刚刚", "刚才", "一直", "到现在", "越来越", "眼看", "马上就"),
    "water": ("水", "漏", "滴", "淌", "渗", "呲", "喷", "湿"),
    "overhead": ("天花板", "顶子", "屋顶", "吊顶", "顶上", "楼上", "灯"),
    "electric": ("电线", "线", "插座", "电箱", "电闸", "电杆", "开关", "火花", "电表", "充电"),
    "burn": ("焦", "糊", "火花", "冒火", "烟", "烫手", "烧"),
    "person": ("老人", "老太", "老头", "老爷子", "大爷", "大妈", "阿婆", "阿公", "奶奶", "爷爷", "外婆", "外公", "姥姥",
               "姥爷", "我妈", "我爸", "老妈", "老爸", "母亲", "父亲", "公公", "婆婆", "我公", "我婆", "叔", "伯", "姨",
               "孃", "阿嬷", "孩子", "小孩", "娃", "宝宝", "儿子", "女儿", "邻居", "他", "她"),
    "unresponsive": ("不应", "没应", "没人接", "不接", "没接", "没反应", "迷迷糊糊", "迷糊", "叫不醒", "喊不醒", "没动静",
                     "没声音", "没回", "莫回", "冇回", "没出来", "没开门", "不开门", "联系不", "打不通", "关机"),
    "missing": ("没回来", "莫回来", "冇回来", "还没回", "找不到", "不见了", "走丢", "认不到路", "认不得路", "不认得路",
                "不记得路", "天都黑", "天黑了"),
    "body": ("烫", "发烧", "喘", "吐", "晕", "抽", "血", "疼得", "痛得", "脸色", "嘴唇", "站不起", "起不来", "瘫", "摔"),
    "stranger": ("陌生", "不认识", "没见过", "冒充", "自称", "说是", "没穿工作服", "没有证件", "莫得证件", "没证件",
                 "鬼鬼祟祟", "可疑"),
    "door": ("门口", "敲门", "门开着", "门没关", "一条缝", "撬", "锁", "翻东西", "动静", "进屋", "要进"),
    "structure": ("墙", "砖", "瓦", "房檐", "屋檐", "围墙", "外墙", "阳台", "栏杆", "护栏", "雨棚", "招牌", "广告牌",
                  "树", "电杆"),
    "failing": ("裂", "歪", "斜", "塌", "垮", "掉下", "掉了", "松动", "活动的", "晃", "倒了", "要倒", "断了", "耷", "垂"),
    "people_below": ("下面", "底下", "楼下", "路过", "过路", "候车", "放学", "人行道", "行人", "差一步", "差点",
                     "旁边就是", "有人走", "小孩玩"),
    "alone": ("独居", "一个人住", "一个人在家", "自己住", "没人在家", "家里没人", "他家没人", "没有人在", "在外地",
              "不在家"),
    "spread": ("满地", "一地", "到处", "流到", "淹", "漫", "下雨一样", "像下雨", "越来越大", "止不住", "停不下"),
    "cant_stop": ("拧不动", "关不上", "关不掉", "拔不下", "拔不掉", "弄不了", "不会弄", "不敢开", "不敢进", "不敢动",
                  "不敢碰", "不知道怎么办", "要怎么办", "咋办", "怎么办"),
    "crime": ("偷", "撬", "抢", "砸", "打人", "打架", "动手", "刀", "棍"),
    "heat_cold": ("热得", "热晕", "中暑", "冻", "冷得", "没暖气", "空调坏"),
    "help": ("帮忙", "帮我", "帮下", "帮一下", "麻烦", "快来", "来人", "叫人", "派人", "上来看", "过来看", "敲下门",
             "去看看"),
}
_CLASSES_OF: dict[str, frozenset[str]] = {}
for _name, _words in CONCEPTS.items():
    for _word in _words:
        _CLASSES_OF[_word] = _CLASSES_OF.get(_word, frozenset()) | {_name}
# one scan: every word of every class, the longest where several begin; a word's classes are looked up where it
# matched
_CONCEPT_RE = alternation(_CLASSES_OF)


def concept_features(text: str) -> list[str]:
    """The word classes present ("K:water") and every pair of them ("K:overhead+water"), in a fixed order."""
    return _concept_names(_concepts_present(text))


def _concepts_present(text: str) -> frozenset[str]:
    present: frozenset[str] = frozenset()
    for found in _CONCEPT_RE.findall(text):
        present |= _CLASSES_OF[found]
    return present


def _concept_names(present: frozenset[str]) -> list[str]:
    names = sorted(present)
    out = ["K:" + n for n in names]
    out += [f"K:{a}+{b}" for i, a in enumerate(names) for b in names[i + 1:]]
    return out


def features(text: str, rule: Any) -> list[str]:
    return list(iter_features(text, rule))


def iter_features(text: str, rule: Any) -> Iterator[str]:
    """features(), in the same order, as a stream for Model.predict."""
    return chain(_grams(text), (_length_bucket(len(text)),), rule_features(rule),
                 concept_features(text))


@dataclass(frozen=True, slots=True)
class Prediction:
    kind: dict[str, float]
    category: dict[str, float]
    urgent: float
    reasons: tuple[str, ...]  # the features that pushed hardest towards the chosen kind


def _softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    e = [math.exp(v - top) for v in logits]
    total = sum(e)
    return [v / total for v in e]


class Model:
    """Three linear heads over one vocabulary: kind (4 classes), category (9), urgent (1 logit)."""

    def __init__(self, vocab: dict[str, int], weights: np.ndarray, bias: np.ndarray, kinds: tuple[str, ...],
                 categories: tuple[str, ...], *, native: bool = True) -> None:
        self.vocab = vocab
        self.names = sorted(vocab, key=vocab.__getitem__)  # index → feature, for explanations
        self.weights = weights
        self.bias = bias
        self.kinds = kinds
        self.categories = categories
        self._k = len(kinds)
        self._c = len(categories)
        self._concept_rows: dict[frozenset[str], list[int | None]] = {}
        self._bias_row = len(weights)
        self._weights_and_bias = np.ascontiguousarray(np.concatenate((weights, bias.reshape(1, -1))))
        # the vocabulary's n-grams by their integer keys (_gram_keys): looked up without cutting a string per n-gram
        keys, rows = [], []
        for length in range(1, _MAX_GRAM + 1):
            names = [n for n in self.names if len(n) == length]  # every other feature is longer ("K:now", "len<3")
            keys += _name_keys(names, length).tolist()
            rows += map(vocab.__getitem__, names)
        # in C where it was built (and for float32 weights, as shipped; the training script's are float64)
        self.native = native and _native is not None and self._weights_and_bias.dtype == np.float32
        if self.native:
            self._table = _native.GramTable(keys, rows, len(weights))
            self._linear = _native.Weights(self._weights_and_bias)
        else:
            self._gram_rows: dict[int, int] = dict(zip(keys, rows))

    @classmethod
    def load(cls, path: Path = MODEL_FILE, *, native: bool = True) -> "Model | None":
        if not path.exists():
            return None
        data = np.load(path, allow_pickle=False)
        vocab_list = str(data["vocab"][()]).split("\n")
        kinds = tuple(str(data["kinds"][()]).split("\n"))
        categories = tuple(str(data["categories"][()]).split("\n"))
        return cls({f: i for i, f in enumerate(vocab_list)}, data["weights"].astype(np.float32),
                   data["bias"].astype(np.float32), kinds, categories, native=native)

    def predict(self, feats: Iterable[str], *, explain: bool = True) -> Prediction:
        """The three heads' answer for a message's features (binary: each counts once)."""
        found = dict.fromkeys(map(self.vocab.get, feats))  # each row once, where it first occurs
        found.pop(None, None)
        return self._predict(list(found), explain)

    def predict_message(self, text: str, rule: Any, *, explain: bool = True) -> Prediction:
        """predict(iter_features(text, rule)), the same to the last bit, with the n-grams looked
        up by integer key: the same rows in the same order (where each first occurs), so they sum and break ties
        alike."""
        get = self.vocab.get
        present = _concepts_present(text)
        concepts = self._concept_rows.get(present)
        if concepts is None:
            concepts = list(map(get, _concept_names(present)))
            if len(self._concept_rows) < 4096:  # the classes' combinations met so far; a bound all the same
                self._concept_rows[present] = concepts
        extra = [get(_length_bucket(len(text))), *map(get, rule_features(rule)), *concepts]
        return self._predict(self._rows(text, extra), explain)

    def _rows(self, text: str, extra: list[int | None]) -> list[int]:
        """The rows of the text's n-grams and then of `extra` (None: outside the vocabulary), each once, where it
        first occurs."""
        if self.native:
            return self._table.rows(text, extra)
        found = dict.fromkeys(chain(map(self._gram_rows.get, _gram_keys(_marked(text)).tolist()), extra))
        found.pop(None, None)
        return list(found)

    def _predict(self, rows: list[int], explain: bool) -> Prediction:
        k, c = self._k, self._c
        if self.native:
            logits = self._linear.sum(rows)
        else:
            taken = self._weights_and_bias.take(np.fromiter(chain(rows, (self._bias_row,)), np.intp, len(rows) + 1),
                                                axis=0)
            logits = _in_turn(taken)
        pk = _softmax(logits[:k])
        pc = _softmax(logits[k:k + c])
        urgent = 1.0 / (1.0 + math.exp(-logits[k + c]))
        reasons: tuple[str, ...] = ()
        if explain and rows:
            kind = pk.index(max(pk))  # the chosen kind (the first of equals)
            top = self._linear.heaviest(rows, kind, 6, 0.3) if self.native else _heaviest(taken[:-1, kind], rows)
            names = self.names
            reasons = tuple([name for name in map(names.__getitem__, top) if not name.startswith(_QUIET)][:3])
        return Prediction(dict(zip(self.kinds, pk)), dict(zip(self.categories, pc)), urgent, reasons)


def _in_turn(taken: np.ndarray) -> list[float]:
    """The rows (the features' and then the bias) added one after the other in their own precision, as _grams.c
    adds them: numpy's reduce over the rows of a C-ordered matrix of several columns runs along each row in turn;
    with one column it may add pairwise, so there it accumulates."""
    if taken.shape[1] > 1:
        return np.add.reduce(taken, axis=0).tolist()
    return np.add.accumulate(taken, axis=0)[-1].tolist()


def _heaviest(column: np.ndarray, rows: list[int]) -> list[int]:
    """Of the six rows weighing most in `column` (equals in their order), those above 0.3, heaviest first."""
    top = np.argsort(-column, kind="stable")[:6]
    strong = (column[top] > 0.3).tolist()  # in the weights' own precision (float32 as shipped)
    return [rows[j] for j, heavy in zip(top.tolist(), strong) if heavy]


_MODEL: Model | None = None
_LOADED = False


def default_model() -> Model | None:
    """The shipped model, loaded once (None if the file is missing: the rules then decide alone)."""
    global _MODEL, _LOADED
    if not _LOADED:
        _MODEL = Model.load()
        _LOADED = True
    return _MODEL
