"""Finding items by name: normalised titles (case, accents, punctuation and a trailing "(year)"
ignored), exact and whole-word matches first, then close spellings (difflib)."""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from engine.explore.similarity import _cached

_YEAR = re.compile(r"\s*\((\d{4})\)\s*$")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_LEADING_ARTICLE = re.compile(r"^(the|a|an) ")


def normalise(text: str) -> str:
    """'Amélie (2001)' -> 'amelie'; 'The Matrix' -> 'matrix'; CJK characters are kept."""
    text = _YEAR.sub("", str(text))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _NON_WORD.sub(" ", text.lower()).strip()
    return _LEADING_ARTICLE.sub("", text)


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

    def find(self, name: str, n: int = 3, cutoff: float = 0.75) -> list[TitleMatch]:
        """Best matches for a name said by a user, best first."""
        q = normalise(name)
        if not q:
            return []
        if q in self.exact:
            return [TitleMatch(i, 1.0, "exact") for i in self.exact[q][:n]]
        contains = [i for i, t in enumerate(self.titles) if t and f" {q} " in f" {t} "]
        if contains:
            contains.sort(key=lambda i: (len(self.titles[i]), -self.popularity[i]))
            return [TitleMatch(i, 0.8, "contains") for i in contains[:n]]
        close = difflib.get_close_matches(q, list(self.exact), n=n, cutoff=cutoff)
        return [TitleMatch(self.exact[t][0], round(difflib.SequenceMatcher(None, q, t).ratio(), 3), "close")
                for t in close]


def title_index(dataset) -> TitleIndex:
    return _cached(dataset, "title_index", lambda: TitleIndex(dataset))
