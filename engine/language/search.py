"""Free-text search over a catalogue: hybrid of a lexical arm (BM25, engine.language.lexical), a dense
arm (the sentence encoder's cosine) and the catalogue attributes the query names (engine.language.facets).

hybrid score = weighted reciprocal rank fusion of the two arms (each arm's top item is worth its
weight) + FACET_WEIGHT x the share of the named constraints an item meets + TITLE_WEIGHT x title
match, and an exact name always comes first. The weights were chosen on the tuning part of the
query sets in tests/data/search_queries (benchmarks/search_quality.py; docs/language.md has the
figures). Without the encoded catalogue the hybrid is lexical + constraints + titles, and says so."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from engine.errors import EngineError
from engine.explore.similarity import has_semantic, semantic_encoder_name, semantic_vectors
from engine.language.facets import Constraint, describe, facets
from engine.language.item_labels import distinguishing_labels
from engine.language.lexical import lexical_index
from engine.language.titles import title_index

MODES = ("hybrid", "lexical", "dense")


@dataclass(frozen=True)
class Fusion:
    """How the hybrid combines its parts (benchmarks/search_quality.py measures other choices)."""
    lexical: float = 1.0      # weight of the BM25 arm's reciprocal rank
    dense: float = 0.5        # weight of the encoder arm's reciprocal rank
    rrf_k: int = 10           # 1 / (k + rank); 10 beat the usual 60 on the tuning queries
    facets: float = 5.0       # x the share of the query's constraints an item meets: above both arms
                              # together (1.5), so it acts as a filter that still ranks partial matches
    title: float = 0.3        # x title match below exact (words of the query inside the title)


FUSION = Fusion()
EXACT_TITLE = 100.0           # an exact name comes first whatever else matched


@dataclass(frozen=True)
class SearchHit:
    item: int
    external_id: str
    title: str
    genres: tuple[str, ...]
    score: float
    meaning: float          # cosine of the query and the item text (0 when the dense arm is off)
    title_match: float      # 0..1 (see engine.language.titles.TitleIndex.scores)
    lexical: float = 0.0    # BM25 score of the item text
    constraints_met: float = 0.0   # share of the understood constraints the item meets
    label: str = ""         # what tells the item apart when its title repeats (winery, year), else ""


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: tuple[SearchHit, ...]
    seconds: float          # query encoding + ranking, once the catalogue is encoded
    mode: str = "hybrid"
    constraints: tuple[Constraint, ...] = field(default=())
    dense: bool = True      # the dense arm took part (False: the catalogue is not encoded)

    def describe(self) -> str:
        """The understood constraints, e.g. 'Red · Full-bodied · Portugal' ('' when none)."""
        return describe(self.constraints)


def _reciprocal_ranks(score: np.ndarray, k: int, *, positive_only: bool) -> np.ndarray:
    """(k + 1) / (k + rank) per item (1 for the top item); 0 for items the arm did not retrieve."""
    order = np.argsort(-score, kind="stable")
    rank = np.empty(len(score), dtype=np.float32)
    rank[order] = np.arange(1, len(score) + 1, dtype=np.float32)
    out = (k + 1) / (k + rank)
    if positive_only:
        out[score <= 0] = 0.0
    return out.astype(np.float32)


def fuse(parts: dict, fusion: Fusion = FUSION, *, dense: bool = True) -> np.ndarray:
    """The hybrid score from the parts' arrays (meaning, lexical, titles, met)."""
    score = fusion.lexical * _reciprocal_ranks(parts["lexical"], fusion.rrf_k, positive_only=True)
    if dense:
        score = score + fusion.dense * _reciprocal_ranks(parts["meaning"], fusion.rrf_k, positive_only=False)
    titles = parts["titles"]
    return score + fusion.facets * parts["met"] + np.where(titles >= 1.0, EXACT_TITLE, fusion.title * titles)


def search_scores(dataset, query: str, *, mode: str = "hybrid", encoder=None, vectors=None,
                  fusion: Fusion = FUSION) -> dict:
    """Every item's score and its parts (numpy arrays), for search_items and the benchmark."""
    if mode not in MODES:
        raise EngineError(f"unknown search mode {mode!r}: one of {', '.join(MODES)}")
    n = dataset.n_items
    zeros = np.zeros(n, dtype=np.float32)
    use_dense = mode == "dense" or (mode == "hybrid" and (vectors is not None or has_semantic(dataset)))
    meaning = zeros
    if use_dense:
        v = semantic_vectors(dataset) if vectors is None else np.asarray(vectors, dtype=np.float32)
        if encoder is None:      # the encoder that made the attached vectors; loaded once per process
            from engine.encoder.catalogue import encoder_by_name
            encoder = encoder_by_name(semantic_encoder_name(dataset))
        meaning = (v @ np.asarray(encoder.encode([query])[0], dtype=np.float32)).astype(np.float32)
    lexical = lexical_index(dataset).scores(query) if mode != "dense" else zeros
    constraints: tuple[Constraint, ...] = ()
    met = titles = zeros
    if mode == "hybrid":
        fa = facets(dataset)
        constraints = tuple(fa.constraints(query))
        met = fa.match(constraints)
        titles = title_index(dataset).scores(query)
    parts = {"meaning": meaning, "lexical": lexical, "titles": titles, "met": met}
    score = meaning if mode == "dense" else lexical if mode == "lexical" else fuse(parts, fusion, dense=use_dense)
    return {"score": np.asarray(score, dtype=np.float32), "meaning": meaning, "lexical": lexical,
            "titles": titles, "met": met, "constraints": constraints, "dense": use_dense}


def search_items(dataset, query: str, k: int = 20, *, mode: str = "hybrid", encoder=None, vectors=None,
                 fusion: Fusion = FUSION) -> SearchResult:
    """Top-k items for a query. ``mode``: hybrid (default), lexical (BM25 only) or dense (encoder
    only). ``vectors``: the catalogue's encoder rows (default: the dataset's attached ``semantic``
    space; the hybrid goes without it when the catalogue is not encoded, dense needs it);
    ``encoder``: any object with ``encode(texts)`` (default: the one that made the vectors)."""
    query = str(query).strip()
    if not query:
        raise EngineError("type something to search for")
    start = time.perf_counter()
    s = search_scores(dataset, query, mode=mode, encoder=encoder, vectors=vectors, fusion=fusion)
    score = s["score"]
    k = min(int(k), dataset.n_items)
    top = np.argpartition(-score, k - 1)[:k] if 0 < k < len(score) else np.arange(len(score))[:max(k, 0)]
    top = top[np.lexsort((top, -score[top]))]
    labels = distinguishing_labels(dataset, [int(i) for i in top])
    hits = tuple(SearchHit(int(i), str(dataset.item_ids[i]), dataset.titles[i], tuple(dataset.genres[i]),
                           float(score[i]), float(s["meaning"][i]), float(s["titles"][i]), float(s["lexical"][i]),
                           float(s["met"][i]), label) for i, label in zip(top, labels))
    return SearchResult(query, hits, time.perf_counter() - start, mode, s["constraints"], s["dense"])
