"""The intent of one clause: which verb class it uses, whether it is negated, and the words it is about.

Verb classes are tried in a fixed order (the first that occurs wins), so "no more" is an avoid before
"more" is a weight and "more like" is a more-like before "like" is a like. Negations ("not", "n't",
"never", "no longer", "不", "没", "别") before the verb are counted: an odd count flips the intent
("I don't like X": a dislike; "I don't dislike X": neutral), an even one does not ("I don't not like X",
"我不是不喜欢X": a like). What each (class, negated) pair means for an item or a category is in
``ClauseIntent.item_kind`` and ``ClauseIntent.category_kind``."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

_V = [   # (class, pattern, sign) in priority order
    ("less_popular", r"(?:\bless|\bnot\s+so|\bnot\s+too|\bnot)\s+(?:popular|mainstream|famous|well[- ]known)\b|"
                     r"\bobscure\b|\bhidden\s+gems?\b|\blesser[- ]known\b|\bniche\b|\bunderrated\b|\bunknown\b|"
                     r"冷门|小众|不那么热门|不太热门|没那么有名", 0),
    ("lighter", r"\blighter\b|\blight[- ]hearted\b|\bmore\s+fun\b|\bfunnier\b|\bcheerful\b|\bhappier\b|"
                r"\bfeel[- ]good\b|\bless\s+dark\b|\bless\s+serious\b|\bless\s+depressing\b|轻松|欢快|开心", 0),
    ("not_interested", r"\bstop\s+(?:recommending|suggesting|showing|offering)(?:\s+me)?\b|"
                       r"\b(?:don'?t|do\s+not|never|no\s+need\s+to)\s+(?:recommend|suggest|show)(?:\s+me)?\b|"
                       r"\bnot\s+interested\s+in\b|\bno\s+interest\s+in\b|"
                       r"\b(?:i'?ve|i\s+have|already|have|i\s+already)\s+(?:already\s+)?"
                       r"(?:seen|watched|tasted|tried|drunk|had(?!\s+enough))\b|\b(?:seen|watched|tasted|saw|drank|tried)\b|"
                       r"\bremove\b|\bhide\b|\bget\s+rid\s+of\b|\btake\s+(?:away|out|off)\b|"
                       r"别再推荐|不要再推荐|别推荐|不要推荐|不想再看到|不想再看|不想看到|别再给我|不要再给我推荐|别再给我推荐|不用再推荐|别再给我看|看过|喝过|尝过|已经看|不感兴趣", 0),
    ("more_like", r"\b(?:more|something|anything|others?|films?|movies?|wines?|stuff|ones?|things?|titles?)\s+"
                  r"(?:just\s+)?(?:like|similar\s+to|resembling)\b|\bsimilar\s+to\b|\bin\s+the\s+vein\s+of\b|"
                  r"\balong\s+the\s+lines\s+of\b|\bin\s+the\s+style\s+of\b|类似|相似|像", 0),
    ("avoid", r"^\s*not\b(?!\s+(?:a\s+fan|into|for\s+me|bad|great|good))|\brather\s+not\b|\bno\s+more\b|\bnothing\s+(?:with|about|like|featuring|involving|from|of)\b|\bnothing\b|\bno\b|"
              r"\bwithout\b|\bavoid\b|\bskip\b|\bexclude\b|\bnone\s+of\b|\bkeep\s+away\b|\bleave\s+out\b|"
              r"不要|不想看|不想要|不想喝|不看|不喝|去掉|排除", 0),
    ("weight", r"\b(?:less|fewer)\b|\btoo\s+many\b|\btoo\s+much\b|少点|少一点|少一些|少些|少来点|减少", -1),
    ("weight", r"\bmore\b|\bplenty\s+of\b|\bextra\b|多点|多一点|多一些|多些|更多|多来点|再来点|增加", 1),
    ("dislike", r"\bdislike[sd]?\b|\bhated?\b|\bhates\b|\bhating\b|\b(?:can'?t|couldn'?t|cannot|could\s+not)\s+stand\b|\bboring\b|\bbad\b|"
                r"\bawful\b|\bterrible\b|\boverrated\b|\bdull\b|\bnot\s+a\s+fan\s+of\b|\bnot\s+into\b|"
                r"\bsick\s+of\b|\btired\s+of\b|\benough\s+of\b|\bdisappointing\b|\bworst\b|\bhorrible\b|"
                r"\bnot\s+for\s+me\b|\bdone\s+with\b|\bfed\s+up\s+with\b|\b(?:too\s+expensive|too\s+pricey|overpriced|too\s+sweet|too\s+long)\b|\bdetest(?:ed)?\b|\bloathe[d]?\b|讨厌|无聊|难看|难喝|烂片|受不了", 0),
    ("like", r"\blike[sd]?\b|\bliking\b|\blov(?:e|ed|es|ing)\b|\benjoy(?:ed|s)?\b|\badored?\b|\bgreat\b|"
             r"\bamazing\b|\bgood\b|\bfantastic\b|\bbrilliant\b|\bexcellent\b|\bfavou?rites?\b|\bawesome\b|"
             r"\bwonderful\b|\bwant\b|\bwanna\b|\bdelicious\b|\bsuperb\b|\bperfect\b|\bmasterpiece\b|"
             r"\bprefer(?:red|s)?\b|\blovely\b|\bnice\b|\btasty\b|\bfan\s+of\b|\bdrink\b|\bwatch\b|"
             r"喜欢|爱|好看|好喝|不错|很棒|想看|想要|想喝", 0),
]
VERBS = tuple((kind, re.compile(p, re.IGNORECASE), sign) for kind, p, sign in _V)
_NEGATION = re.compile(r"\b(?:not|never|no\s+longer|hardly)\b|n['’]t\b|不|没|别", re.IGNORECASE)
_EDGE_WORDS = set("""i i'm im i'd id i've ive we me my us you your it its it's that that's this these those them
they was is are were be been being really so very much too the a an any some anymore again please thanks thank
at all for to with about from now just honestly actually either though anything something else do does did
would could can will have had has in on of recommendations recommendation suggestions list one ones stuff
films film movies movie wines wine bottles bottle things thing kind sort type genre series show shows
don't dont doesn't didn't didnt won't wouldn't can't cant not never no there here than sure quite
recommended recommend suggest see watch watching drink drinking more less anything""".split())
_CN_EDGE = "我你他她它们了的吧呢啊呀嘛这那种给再更很太也都还是一点些个款瓶推荐看喝到把"


def strip_words(text: str) -> str:
    """Words at either end that do not name anything ("I", "the film", "any more", "please") removed."""
    words = re.sub(r"[?!.,;:。，！？]+", " ", text).split()
    while words and words[0].lower().strip("'’\"") in _EDGE_WORDS:
        words = words[1:]
    while words and words[-1].lower().strip("'’\"") in _EDGE_WORDS:
        words = words[:-1]
    out = " ".join(words).strip(" '\"“”《》")
    return out.strip(_CN_EDGE) if re.search(r"[\u4e00-\u9fff]", out) else out


@dataclass(frozen=True)
class ClauseIntent:
    kind: str                # like, more_like, dislike, not_interested, avoid, weight, less_popular, lighter
    negated: bool
    object: str              # the words it is about (titles already stood in by placeholders)
    sign: int = 0            # weight: +1 more, -1 less
    inherited: bool = False  # the verb came from the previous clause ("I loved X and Y")

    @property
    def item_kind(self) -> str:
        """What it means for an item."""
        flip = {"like": "dislike", "more_like": "dislike", "dislike": "neutral", "not_interested": "neutral",
                "avoid": "neutral"}
        if self.kind == "weight":
            up = (self.sign > 0) != self.negated
            return "more_like" if up else "dislike"
        base = "dislike" if self.kind == "avoid" else self.kind
        return flip[self.kind] if self.negated else base

    @property
    def category_kind(self) -> tuple[str, float]:
        """What it means for a category: ("avoid", 0) hides it, ("weight", ±1) pushes it, ("neutral", 0) nothing."""
        if self.kind == "weight":        # "I don't want any more horror": none; "not less": more
            return ("avoid", 0.0) if self.negated and self.sign > 0 else ("weight", float(self.sign) * (-1 if self.negated else 1))
        if self.kind in ("like", "more_like"):
            return ("avoid", 0.0) if self.negated else ("weight", 1.0)
        return ("neutral", 0.0) if self.negated else ("avoid", 0.0)

    @property
    def on_category_first(self) -> bool:
        """Whether free words are tried as a genre before an item by meaning."""
        return self.kind in ("avoid", "weight")


def read_intent(clause: str, previous: ClauseIntent | None = None) -> ClauseIntent | None:
    """The clause's intent; a clause without a verb but with something to name takes the previous one."""
    for kind, pattern, sign in VERBS:
        found = list(pattern.finditer(clause))
        if not found:
            continue
        # like / dislike: the last one is the verb ("it's not like I don't like X": "like" twice)
        m = found[-1] if kind in ("like", "dislike") else found[0]
        before, after = clause[:m.start()], clause[m.end():]
        negated = len(_NEGATION.findall(before)) % 2 == 1
        if kind in ("weight", "avoid") and re.search(r"\bno\s+more\b", clause, re.IGNORECASE) and kind == "weight":
            continue
        obj = strip_words(_NEGATION.sub(" ", after)) or strip_words(_NEGATION.sub(" ", before))
        return ClauseIntent(kind, negated, obj, sign)
    if previous is None:
        return None
    obj = strip_words(_NEGATION.sub(" ", clause))
    if not obj:
        return None
    own = len(_NEGATION.findall(clause)) % 2 == 1
    return replace(previous, negated=previous.negated != own, object=obj, inherited=True)
