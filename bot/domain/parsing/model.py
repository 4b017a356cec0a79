"""The learned part of the parser: linear models over character n-grams and the rules' own verdict.

The rules (parser.py) say what a message looks like to them; three small linear models then weigh that verdict
against the message's characters — what is being done (kind: report / ack / query / chat), about what (category)
and whether it is urgent. They were trained by `python -m scripts.train_parser` (scikit-learn, logistic
regression) on the tune writers of tests/data/writers/ and the old corpus, and ship as one small file
(`model.npz`). Inference here is plain numpy: look up each feature's row, add, softmax — offline, deterministic,
a few microseconds. The features that decided a message are named in its explanation.
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

MODEL_FILE = Path(__file__).with_name("model.npz")
KINDS = ("report", "ack", "query", "chat")

_DIGITS = re.compile(r"\d")
_QUIET = ("C:", "len")  # features too plain to explain a decision with
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


def _grams(text: str) -> Iterator[str]:
    """text_features, one at a time (each gram can be dropped once looked up; a list keeps ~80 alive)."""
    t = "^" + _SPACES.sub(" ", _DIGITS.sub("0", text[:_TEXT_CHARS])).strip() + "$"
    n = len(t)
    gram = t.__getitem__
    return chain(t, map(gram, _PAIRS[:n - 1]), map(gram, _TRIPLES[:n - 2]))


def rule_features(rule: Any, notice_pending: bool) -> list[str]:
    """What the rules made of the message, as features the models weigh."""
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
    out.append("C:pending" if notice_pending else "C:none")
    return out


def features(text: str, rule: Any, notice_pending: bool) -> list[str]:
    return list(iter_features(text, rule, notice_pending))


def iter_features(text: str, rule: Any, notice_pending: bool) -> Iterator[str]:
    """features(), in the same order, as a stream for Model.predict."""
    return chain(_grams(text), (_length_bucket(len(text)),), rule_features(rule, notice_pending))


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
                 categories: tuple[str, ...]) -> None:
        self.vocab = vocab
        self.names = sorted(vocab, key=vocab.__getitem__)  # index → feature, for explanations
        self.weights = weights
        self.bias = bias
        self.kinds = kinds
        self.categories = categories
        self._k = len(kinds)
        self._c = len(categories)

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "Model | None":
        if not path.exists():
            return None
        data = np.load(path, allow_pickle=False)
        vocab_list = str(data["vocab"][()]).split("\n")
        kinds = tuple(str(data["kinds"][()]).split("\n"))
        categories = tuple(str(data["categories"][()]).split("\n"))
        return cls({f: i for i, f in enumerate(vocab_list)}, data["weights"].astype(np.float32),
                   data["bias"].astype(np.float32), kinds, categories)

    def predict(self, feats: Iterable[str], *, explain: bool = True) -> Prediction:
        # binary features: each counts once. The rows are summed in float32 in the set's order, so the
        # set is built exactly so (None included) for the same sums to the last bit.
        found = set(map(self.vocab.get, feats))
        found.discard(None)
        k, c = self._k, self._c
        idx = list(found)
        if idx:
            rows = self.weights.take(idx, axis=0)
            logits = (np.add.reduce(rows, axis=0) + self.bias).tolist()
        else:
            rows, logits = None, self.bias.tolist()
        pk = _softmax(logits[:k])
        pc = _softmax(logits[k:k + c])
        urgent = 1.0 / (1.0 + math.exp(-logits[k + c]))
        reasons: tuple[str, ...] = ()
        if explain and rows is not None:
            column = rows[:, pk.index(max(pk))]  # the chosen kind (the first of equals)
            top = np.argsort(column)[:-7:-1]  # the six heaviest features, heaviest first
            strong = (column[top] > 0.3).tolist()  # a float32 comparison, as column[j] > 0.3 was
            named = [self.names[idx[j]] for j, heavy in zip(top.tolist(), strong) if heavy]
            reasons = tuple([n for n in named if not n.startswith(_QUIET)][:3])
        return Prediction(dict(zip(self.kinds, pk)), dict(zip(self.categories, pc)), urgent, reasons)


_MODEL: Model | None = None
_LOADED = False


def default_model() -> Model | None:
    """The shipped model, loaded once (None if the file is missing: the rules then decide alone)."""
    global _MODEL, _LOADED
    if not _LOADED:
        _MODEL = Model.load()
        _LOADED = True
    return _MODEL
