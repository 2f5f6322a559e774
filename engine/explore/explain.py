"""Why an item is in a user's list, in plain sentences built only from facts we can show:
the history items closest to it in the model's item space (with the values), the genres/tags it
shares with the history, and whether the re-ranker promoted it for diversity (with its gain)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from engine.errors import EngineError
from engine.explore.similarity import (
    _tokens,
    common_words,
    has_semantic,
    model_vectors,
    semantic_vectors,
    similarity_matrix,
    text_index,
)


@dataclass(frozen=True)
class Contributor:
    """A history item and its similarity to the recommended item."""
    item: int
    title: str
    similarity: float


@dataclass(frozen=True)
class Explanation:
    item: int
    because: tuple[Contributor, ...]     # most similar history items, most similar first
    space: str                           # where `because` was measured: "model" or "text"
    shared_genres: tuple[tuple[str, int], ...]   # (genre, how many history items have it), most first
    promoted: bool
    gain: float | None
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def contributor_matrix(items: np.ndarray, history: np.ndarray, *, dataset,
                       model=None) -> tuple[np.ndarray, str]:
    """(len(items), len(history)) similarity of each item to each history item, in the model's item
    space when it has one, else in the TF-IDF text space. Returns (matrix, space)."""
    items = np.asarray(items, dtype=np.int64)
    history = np.asarray(history, dtype=np.int64)
    try:
        v = model_vectors(model)
        return v[items] @ v[history].T, "model"
    except EngineError:
        idx = text_index(dataset)
        dense, _ = idx.dense_rows(np.concatenate([items, history]))
        return dense[:len(items)] @ dense[len(items):].T, "text"


MIN_CONTRIBUTION = 0.1  # a history item below this similarity is not named as a reason
MIN_MEANING = 0.35      # encoder cosine from which the closest history item is named (related films: 0.35-0.6)


def explain(items, history_items, *, dataset, model=None, promoted=None, gains=None, top: int = 3,
            matrix: tuple[np.ndarray, str] | None = None) -> list[Explanation]:
    """One Explanation per item. ``promoted``/``gains`` come from a RerankResult (None: not re-ranked);
    ``matrix`` is a precomputed ``contributor_matrix`` (the live view caches it per candidate pool)."""
    items = np.asarray(items, dtype=np.int64)
    history = np.unique(np.asarray(history_items, dtype=np.int64))   # one entry per history item
    sims, space = matrix if matrix is not None else (
        contributor_matrix(items, history, dataset=dataset, model=model) if len(history) else
        (np.zeros((len(items), 0), np.float32), "model"))
    hist_genres = Counter(g for h in history for g in set(dataset.genres[int(h)]))
    meaning = None
    if has_semantic(dataset) and len(history) and len(items):
        sv = semantic_vectors(dataset)
        meaning = sv[items] @ sv[history].T
    out = []
    for r, item in enumerate(items):
        row = sims[r]
        best = np.argsort(-row, kind="stable")[:top] if len(row) else np.zeros(0, np.int64)
        ranked = [Contributor(int(history[b]), dataset.titles[int(history[b])], float(row[b])) for b in best]
        because = tuple(c for c in ranked if c.similarity >= MIN_CONTRIBUTION)
        shared = tuple(sorted(((g, hist_genres[g]) for g in set(dataset.genres[int(item)]) if hist_genres[g]),
                              key=lambda x: (-x[1], x[0])))
        p = bool(promoted[r]) if promoted is not None else False
        gain = float(gains[r]) if gains is not None else None
        nearest = ranked[0] if ranked else None
        sentences = _sentences(because, space, shared, p, gain, nearest)
        if meaning is not None:
            b = int(np.argmax(meaning[r]))
            if meaning[r, b] >= MIN_MEANING and int(history[b]) != int(item):
                sentences.insert(1, f"Close in meaning to {dataset.titles[int(history[b])]} ({meaning[r, b]:.2f}), "
                                      f"the nearest of your items by the language model.")
        out.append(Explanation(int(item), because, space, shared, p, gain, tuple(sentences)))
    return out


def _sentences(because, space, shared, promoted, gain, nearest=None) -> list[str]:
    out = []
    where = "the model's item space" if space == "model" else "item text (TF-IDF)"
    if because:
        names = ", ".join(f"{c.title} ({c.similarity:.2f})" for c in because)
        out.append(f"Closest in {where} to these items of your history: {names}.")
    elif nearest is not None:
        out.append(f"None of your history items is close to it in {where} (the nearest, {nearest.title}, "
                   f"has similarity {nearest.similarity:.2f}); its score comes from the model as a whole.")
    else:
        out.append(f"None of your history items is similar to it in {where}.")
    if shared:
        names = ", ".join(f"{g} ({n} of your items)" for g, n in shared)
        out.append(f"Shares {names}.")
    if promoted:
        out.append(f"Promoted for diversity: outside the top of the list by score alone, picked for a "
                   f"diversity gain of {gain:.2f}." if gain is not None else "Promoted for diversity.")
    return out


def explain_pair(a: int, b: int, space: str, *, dataset, model=None) -> str:
    """Why two items are (dis)similar, from facts we can show: the similarity in `space`, the
    genres they share and the words their texts share (what the heatmap's click reports)."""
    if space == "model":
        try:
            model_vectors(model)
        except EngineError:
            space = "text"
    sim = float(similarity_matrix([int(a), int(b)], space, dataset=dataset, model=model)[0, 1])
    ta, tb = dataset.titles[int(a)], dataset.titles[int(b)]
    what = str(getattr(dataset.info, "genres_label", None) or "Genres").lower()     # "categories" for wines
    value = f"n/a (an item has no {what})" if sim != sim else f"{sim:.3f}"
    parts = [f"“{ta}” and “{tb}”: similarity {value} ({what if space == 'genres' else space} space)."]
    shared = [g for g in dataset.genres[int(a)] if g in set(dataset.genres[int(b)])]
    parts.append(f"Shared {what}: {', '.join(shared)}." if shared else f"Nothing shared among their {what}.")
    words = sorted(set(_tokens(dataset.item_text(int(a)))) & set(_tokens(dataset.item_text(int(b))))
                   - common_words(dataset))
    if words:
        parts.append(f"Shared words in their text: {', '.join(words[:8])}{'…' if len(words) > 8 else ''}.")
    if space == "model":
        parts.append("In the model's space, items are close when the same users interact with both.")
    return " ".join(parts)
