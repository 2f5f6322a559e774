"""Categories a user can name in words: a genre ("genre=Horror") or an attribute in an item's description
("label: value; label: value", as X-Wines writes them: "body=Full-bodied", "country=France"). One place that
lists them and says which items belong to one, for the live list's hides and soft weights and for the
plain-words parser."""
from __future__ import annotations

import re

import numpy as np

from engine.explore.similarity import _cached

_ATTR = re.compile(r"\s*([^:;]{1,40}?)\s*:\s*([^;]*)")
# Attributes worth naming: short closed vocabularies (not names of wineries or dishes' free text).
ATTRIBUTES = ("type", "body", "acidity", "country", "grapes", "harmonize", "elaborate", "region name")


def attributes(description: str) -> dict[str, list[str]]:
    """'type: Red; grapes: Merlot, Syrah' -> {'type': ['Red'], 'grapes': ['Merlot', 'Syrah']}."""
    out: dict[str, list[str]] = {}
    for part in str(description or "").split(";"):
        m = _ATTR.fullmatch(part)
        if m:
            out[m.group(1).strip().lower()] = [v.strip() for v in m.group(2).split(",") if v.strip()]
    return out


def _item_attributes(dataset) -> list[dict[str, list[str]]]:
    descs = dataset.descriptions if dataset.descriptions is not None else [""] * dataset.n_items
    return _cached(dataset, "item_attributes", lambda: [attributes(d) for d in descs])


def category_values(dataset) -> dict[str, list[str]]:
    """{'genre': [...], 'body': [...], ...}: every nameable category of a dataset, by its label."""
    def build():
        out: dict[str, set[str]] = {"genre": {g for gs in dataset.genres for g in gs}}
        for attrs in _item_attributes(dataset):
            for label, values in attrs.items():
                if label in ATTRIBUTES:
                    out.setdefault(label, set()).update(values)
        return {k: sorted(v) for k, v in out.items() if v}
    return _cached(dataset, "category_values", build)


def category_mask(dataset, category: str) -> np.ndarray:
    """(n_items,) bool: the items in a category "label=value"."""
    cache = _cached(dataset, "category_masks", dict)
    if category not in cache:
        label, _, value = category.partition("=")
        value = value.lower()
        if label == "genre":
            hits = [any(g.lower() == value for g in gs) for gs in dataset.genres]
        else:
            hits = [any(v.lower() == value for v in a.get(label, ())) for a in _item_attributes(dataset)]
        cache[category] = np.asarray(hits, dtype=bool).reshape(-1)[:dataset.n_items]
    return cache[category]


def category_label(category: str) -> str:
    """'genre=Horror' -> 'Horror'; 'body=Full-bodied' -> 'body: Full-bodied'."""
    label, _, value = category.partition("=")
    return value if label == "genre" else f"{label}: {value}"
