"""Understanding resident messages: kind, category, urgency and location — fast, offline, explainable.

    >>> parse("33号楼消防通道又堆满纸箱了").category
    'safety'

See `lexicon.py` for the words and the `lexicon:` section a community can add in config.yaml.
"""

from bot.domain.parsing.lexicon import CATEGORIES, Lexicon, LexiconError, normalize
from bot.domain.parsing.parser import KINDS, URGENCIES, Location, ParseContext, ParseResult, Thresholds, cn_number, parse

__all__ = ["CATEGORIES", "KINDS", "URGENCIES", "Lexicon", "LexiconError", "Location", "ParseContext",
           "ParseResult", "Thresholds", "cn_number", "normalize", "parse"]
