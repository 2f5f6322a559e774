"""The lexical arm of search: BM25 (the ``bm25s`` library, numpy only) over the item text the search
reads (title, categories, description), English stemming by PyStemmer (Snowball), accents folded, and
Chinese/Japanese/Korean runs cut into character bigrams (those scripts put no spaces between words).

The index lives in memory, built once per loaded dataset (cached like the title index), so it works
the same on an SQLite or a PostgreSQL store: no store-specific full-text code."""
from __future__ import annotations

import re
import unicodedata

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from engine.explore.similarity import _cached

_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
_STOP = frozenset(STOPWORDS_EN)
_stemmer = Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Lower case, accents removed ('Rosé' -> 'rose'); CJK characters are kept."""
    text = str(text).lower()
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def _cjk_grams(run: str) -> list[str]:
    return [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)]


def analyse(text: str) -> list[str]:
    """Tokens of a text: stemmed English words without stop words, CJK character bigrams."""
    text = fold(text)
    words = _WORD.findall(text)
    if not _CJK.search(text):           # the common case: one batch through the stemmer
        return _stemmer.stemWords([w for w in words if w not in _STOP and (len(w) > 1 or w.isdigit())])
    out: list[str] = []
    for word in words:
        if _CJK.search(word):           # a word mixing CJK and other characters: split the runs apart
            for part in re.split(f"({_CJK.pattern})", word):
                if not part:
                    continue
                out.extend(_cjk_grams(part) if _CJK.fullmatch(part) else [part])
        elif word not in _STOP and (len(word) > 1 or word.isdigit()):
            out.append(word)
    return [t if _CJK.match(t) else _stemmer.stemWord(t) for t in out]


class LexicalIndex:
    """BM25 scores of a query against every item of one dataset."""

    def __init__(self, texts):
        self.n = len(texts)
        self.bm25 = bm25s.BM25()
        if self.n:
            self.bm25.index([analyse(t) for t in texts], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """(n_items,) float32 BM25 scores; zeros when no query word is in the catalogue."""
        tokens = analyse(query)
        if not tokens or self.n == 0:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)


def lexical_index(dataset) -> LexicalIndex:
    """The dataset's BM25 index over ``Dataset.item_text`` (built on first use, then cached)."""
    return _cached(dataset, "lexical_index",
                   lambda: LexicalIndex([dataset.item_text(i) for i in range(dataset.n_items)]))
