"""What tells an item apart from others with the same title, for result lists: many wines are called
"Cabernet Sauvignon", films get remade. The label is the labelled description field ("winery name:
Salton") whose values differ most among the items sharing the title (ties: the field most nearly
unique across the catalogue, a name rather than a grape), else the year in the title, else the
item's id; items with a title of their own get ''."""
from __future__ import annotations

import re

from engine.explore.similarity import _cached
from engine.language.facets import labelled_fields
from engine.language.titles import normalise, title_index

_YEAR = re.compile(r"\((\d{4})\)\s*$")


def distinguishing_labels(dataset, items) -> list[str]:
    """One label per item ('' when its title is unique in the catalogue)."""
    index = title_index(dataset)
    out = []
    for i in items:
        same = index.exact.get(normalise(dataset.titles[i]), [i])
        out.append(_label(dataset, i, same) if len(same) > 1 else "")
    return out


def _label_uniqueness(dataset) -> dict[str, float]:
    """Per description label: distinct values / items having it (1.0: every item its own value)."""
    def build():
        values: dict[str, set] = {}
        counts: dict[str, int] = {}
        for d in dataset.descriptions:
            for label, vs in labelled_fields(d).items():
                values.setdefault(label, set()).add(", ".join(vs))
                counts[label] = counts.get(label, 0) + 1
        return {label: len(values[label]) / counts[label] for label in values}
    return _cached(dataset, "label_uniqueness", build)


def _label(dataset, item: int, same: list[int]) -> str:
    fields = {j: labelled_fields(dataset.descriptions[j]) for j in same[:200]}
    mine = fields.get(item) or labelled_fields(dataset.descriptions[item])
    if mine:
        unique = _label_uniqueness(dataset)
        spread = {label: len({", ".join(f.get(label, [])) for f in fields.values()}) for label in mine}
        best = max(mine, key=lambda label: (spread[label], unique.get(label, 0.0)))
        if spread[best] > 1:
            return ", ".join(mine[best])
    years = {m.group(1) for j in same if (m := _YEAR.search(str(dataset.titles[j])))}
    mine_year = _YEAR.search(str(dataset.titles[item]))
    if len(years) > 1 and mine_year:
        return mine_year.group(1)
    return str(dataset.item_ids[item])


class ShownTitles:
    """`titles[i]` as lists should show them: the title, and for an item whose title others share, what
    tells it apart ("Saint-Julien (Grand Cru Classé) · Château Talbot"). Indexable like dataset.titles."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.index = title_index(dataset)        # built here (a worker), not on the first row shown

    def __len__(self) -> int:
        return len(self.dataset.titles)

    def __getitem__(self, i) -> str:
        i = int(i)
        title = str(self.dataset.titles[i])
        same = [j for j in self.index.exact.get(normalise(title), [i]) if str(self.dataset.titles[j]) == title]
        return f"{title} · {_label(self.dataset, i, same)}" if len(same) > 1 else title    # the same words shown


def shown_titles(dataset) -> ShownTitles:
    """The dataset's ShownTitles, made once."""
    return _cached(dataset, "shown_titles", lambda: ShownTitles(dataset))
