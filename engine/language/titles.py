"""Finding items by name: normalised titles (case, accents, punctuation and a trailing "(year)"
ignored), exact and whole-word matches first, then close spellings (rapidfuzz).

``TitleIndex.spans(text)`` finds whole catalogue titles inside a sentence, longest first, with their
punctuation ("Star Wars: Episode IV - A New Hope", "Pauillac (Premier Grand Cru Classé)"), before any
intent pattern cuts the sentence: the plain-words parser reads titles first."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from engine.explore.similarity import _cached

_YEAR = re.compile(r"\s*\((\d{4})\)\s*$")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_LEADING_ARTICLE = re.compile(r"^(the|a|an) ")
_CJK = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+", re.UNICODE)   # a CJK character, or a word
ARTICLES = {"the", "a", "an"}
# Words too common to be a title on their own: a title made only of these ("It", "Up", "The Others")
# matches only when written with capitals ("I loved Up", not "can you suggest others").
COMMON = set("""
a about above after again against all also am an and another any anything are as at away back bad be because
been before being best better between big both but by can could day did do does doing don done down each else
enough even ever every few film films for from get give go going good got great had has have having he her here
hers him his how i if in into is it its just keep know last less let like liked little long look lot love loved
made make man many may me might mine more most movie movies much must my never new next no none nor not nothing
now of off often oh ok old on once one ones only or other others our out over own please quite rather really
recommend recommended same see seen she should show similar so some something still stop stuff such suggest
t take than that the their them then there these they thing things think this those though through time to too
two under up us very want was watch watched way we well were what when where which while who why will wine wines
with without would yes yet you your s re ve ll d m fan fans boring great amazing awful terrible favourite
favourites favorite favorites enjoy enjoyed hate hated dislike disliked seen recommending showing anymore
lighter popular obscure again sure maybe
""".split())


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", str(text)) if not unicodedata.combining(c)).lower()


def tokens(text: str) -> list[tuple[str, int, int]]:
    """(normalised token, start, end) of each word or CJK character, spans in `text`."""
    out = []
    for m in _TOKEN.finditer(str(text)):
        word = _fold(m.group())
        if word:
            out.append((word, m.start(), m.end()))
    return out


def title_year(title: str) -> str:
    m = _YEAR.search(str(title))
    return m.group(1) if m else ""


def normalise(text: str) -> str:
    """'Amélie (2001)' -> 'amelie'; 'The Matrix' -> 'matrix'; CJK characters are kept."""
    text = _YEAR.sub("", str(text))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _NON_WORD.sub(" ", text.lower()).strip()
    return _LEADING_ARTICLE.sub("", text)


@dataclass(frozen=True)
class TitleSpan:
    """A catalogue title found in a sentence: where, and the item(s) it names (several: equal titles)."""
    start: int
    end: int
    items: tuple[int, ...]
    text: str


@dataclass(frozen=True)
class TitleMatch:
    item: int
    score: float      # 1 exact, 0.8 whole words inside the title, else difflib's ratio
    how: str          # "exact", "contains", "close"


class TitleIndex:
    """Normalised titles of one dataset; ties between equal titles go to the more popular item."""

    def __init__(self, dataset):
        self.titles = [normalise(t) for t in dataset.titles]
        counts = np.bincount(np.asarray(dataset.item_idx, dtype=np.int64), minlength=dataset.n_items)
        self.popularity = counts
        self.exact: dict[str, list[int]] = {}
        for i, t in enumerate(self.titles):
            if t:
                self.exact.setdefault(t, []).append(i)
        for items in self.exact.values():
            items.sort(key=lambda i: -counts[i])
        self.years = [title_year(t) for t in dataset.titles]
        self._keys = list(self.exact)
        # titles by first token, for scanning a sentence: (token tuple, items, made of common words only)
        self.by_first: dict[str, list[tuple[tuple[str, ...], list[int], bool]]] = {}
        for key, items in self.exact.items():
            toks = tuple(w for w, _, _ in tokens(key))
            if toks:
                common = all(w in COMMON or len(w) < 3 for w in toks)
                self.by_first.setdefault(toks[0], []).append((toks, items, common))
        for cands in self.by_first.values():
            cands.sort(key=lambda c: -len(c[0]))

    def scores(self, query: str) -> np.ndarray:
        """(n_items,) title-match score of a search query: 1 exact, 0.8 the query's words inside the
        title, 0.8 x (the share of the query it covers) for a title covering at least half of the query
        ("watch inception" finds Inception; "The Children" does not count for "animated film for
        children"), else 0."""
        q = normalise(query)
        out = np.zeros(len(self.titles), dtype=np.float32)
        if not q:
            return out
        pad_q = f" {q} "
        for i, t in enumerate(self.titles):
            if not t:
                continue
            if t == q:
                out[i] = 1.0
            elif pad_q in f" {t} ":
                out[i] = 0.8
            elif len(t) >= 2 and 2 * len(t) >= len(q) and f" {t} " in pad_q:
                out[i] = 0.8 * len(t) / len(q)
        return out

    def spans(self, text: str, skip=frozenset()) -> list[TitleSpan]:
        """Whole catalogue titles inside `text`, longest first and not overlapping, left to right. A
        title said with its year ("Hamlet (1996)") keeps only that year's items; a title made of common
        words only must be written with capitals; normalised keys in `skip` (category names) are left out."""
        toks = tokens(text)
        out, i = [], 0
        while i < len(toks):
            found = None
            for cand, items, common in self.by_first.get(toks[i][0], ()):
                n = len(cand)
                if tuple(w for w, _, _ in toks[i:i + n]) != cand or " ".join(cand) in skip:
                    continue
                said = text[toks[i][1]:toks[i + n - 1][2]]
                if common and not _capitalised(said, n == 1 and toks[i][1] == 0):
                    continue          # "can you suggest others" is not "The Others"; "I loved Up" is "Up"
                if n == 1 and said.islower() and any(c.isupper() for c in text[1:]):
                    continue          # a capitalised sentence writes a one-word title with its capital
                found = (n, items)
                break
            if found is None:
                i += 1
                continue
            n, items = found
            start, end = toks[i][1], toks[i + n - 1][2]
            if i > 0 and toks[i - 1][0] in ARTICLES and text[toks[i - 1][1]:toks[i - 1][1] + 1].isupper():
                start = toks[i - 1][1]
            if i + n < len(toks) and re.fullmatch(r"\d{4}", toks[i + n][0]):
                year = toks[i + n][0]
                dated = [j for j in items if self.years[j] == year]
                if dated:
                    items, end = dated, toks[i + n][2]
                    n += 1
                    if end < len(text) and text[end] == ")":
                        end += 1
            said = text[start:end]
            if end < len(text) and text[end] in ")]》”\"'" and said.count("(") > said.count(")"):
                end += 1              # "Pauillac (Premier Grand Cru Classé)": the closing bracket too
            out.append(TitleSpan(start, end, tuple(items), text[start:end]))
            i += n
        return out

    def find(self, name: str, n: int = 3, cutoff: float = 0.75) -> list[TitleMatch]:
        """Best matches for a name said by a user, best first: exact, the name's words inside a title
        (shortest, then most popular), else close spellings (rapidfuzz ratio >= cutoff)."""
        q = normalise(name)
        if not q:
            return []
        if q in self.exact:
            return [TitleMatch(i, 1.0, "exact") for i in self.exact[q][:n]]
        contains = [i for i, t in enumerate(self.titles) if t and f" {q} " in f" {t} "]
        if contains:
            contains.sort(key=lambda i: (len(self.titles[i]), -self.popularity[i]))
            return [TitleMatch(i, 0.8, "contains") for i in contains[:n]]
        close = process.extract(q, self._keys, scorer=fuzz.ratio, limit=n, score_cutoff=cutoff * 100)
        return [TitleMatch(self.exact[t][0], round(score / 100, 3), "close") for t, score, _ in close]


def _capitalised(said: str, at_start: bool) -> bool:
    """Whether words said as a title of common words look like one: starting with a capital, most of their
    words of two letters or more capitalised, and not a lone word opening the sentence."""
    words = [w for w in re.findall(r"[^\W_]+", said) if len(w) >= 2]
    return (not at_start and said[:1].isupper() and bool(words)
            and 2 * sum(w[:1].isupper() for w in words) >= len(words))


def title_index(dataset) -> TitleIndex:
    return _cached(dataset, "title_index", lambda: TitleIndex(dataset))
