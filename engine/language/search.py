"""Free-text search over a catalogue: meaning (the sentence encoder) plus title matching.

score = cosine(query, item text) + TITLE_WEIGHT * title match, so an exact name always comes first
and a description ("animated film for children") finds items whose text means it."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine.encoder.catalogue import encoder_by_name
from engine.errors import EngineError
from engine.explore.similarity import semantic_encoder_name, semantic_vectors
from engine.language.titles import title_index

TITLE_WEIGHT = 0.6


@dataclass(frozen=True)
class SearchHit:
    item: int
    external_id: str
    title: str
    genres: tuple[str, ...]
    score: float
    meaning: float          # cosine of the query and the item text
    title_match: float      # 0..1 (see engine.language.titles.TitleIndex.scores)


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: tuple[SearchHit, ...]
    seconds: float          # query encoding + ranking, once the catalogue is encoded


def search_items(dataset, query: str, k: int = 20, *, encoder=None, vectors=None) -> SearchResult:
    """Top-k items for a query. ``vectors``: the catalogue's encoder rows (default: the dataset's
    attached ``semantic`` space); ``encoder``: any object with ``encode(texts)`` (default numpy)."""
    query = str(query).strip()
    if not query:
        raise EngineError("type something to search for")
    v = semantic_vectors(dataset) if vectors is None else np.asarray(vectors, dtype=np.float32)
    if encoder is None:      # the encoder that made the attached vectors; loaded once per process
        encoder = encoder_by_name(semantic_encoder_name(dataset))
    start = time.perf_counter()
    q = encoder.encode([query])[0]
    meaning = v @ q
    titles = title_index(dataset).scores(query)
    score = meaning + TITLE_WEIGHT * titles
    k = min(int(k), dataset.n_items)
    top = np.argpartition(-score, k - 1)[:k] if 0 < k < len(score) else np.arange(len(score))[:max(k, 0)]
    top = top[np.lexsort((top, -score[top]))]
    hits = tuple(SearchHit(int(i), str(dataset.item_ids[i]), dataset.titles[i], tuple(dataset.genres[i]),
                           float(score[i]), float(meaning[i]), float(titles[i])) for i in top)
    return SearchResult(query, hits, time.perf_counter() - start)
