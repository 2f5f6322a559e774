"""The catalogue's attributes as facets, and the constraints a search query names.

Facets are derived from any catalogue the same way (no per-dataset code): its categories
(``Dataset.genres``), labelled fields in descriptions written "label: value; label: value" (values
split on ", "; a label is kept when its values repeat, so names such as a winery are left to the
text arms), and the decade of a year in a title "(1999)".

A query names a value by its words ("sparkling", "full-bodied", "Portugal"), with its label in
either order ("low acidity", "acidity low"), by one side of a "a/b" value ("Shiraz" for
"Syrah/Shiraz"), by what tells it apart from its label's other values ("light" for "Light-bodied"
when every body value ends in "bodied"), by a country adjective or demonym ("Portuguese"), a genre
adjective ("animated", "scary"), or a decade ("90s", "1990s", "the eighties"). Words are compared
after folding accents and English stemming, longest phrase first, each query word used once."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from engine.explore.similarity import _cached
from engine.language.lexical import _CJK, fold

_PAIR = re.compile(r"(?:^|;\s*)([^:;]{1,40}):\s*([^;]*)")
_YEAR = re.compile(r"\((\d{4})\)\s*$")
_WORD = re.compile(r"\w+", re.UNICODE)

# General English tables (not tuned to one catalogue): used only for values the catalogue has.
COUNTRY_WORDS = {
    "Argentina": "Argentinian|Argentine", "Australia": "Australian", "Austria": "Austrian",
    "Belgium": "Belgian", "Brazil": "Brazilian", "Bulgaria": "Bulgarian", "Canada": "Canadian",
    "Chile": "Chilean", "China": "Chinese", "Croatia": "Croatian", "Czech Republic": "Czech",
    "Denmark": "Danish", "Egypt": "Egyptian", "England": "English", "Finland": "Finnish", "France": "French",
    "Georgia": "Georgian", "Germany": "German", "Greece": "Greek", "Hungary": "Hungarian", "India": "Indian",
    "Ireland": "Irish", "Israel": "Israeli", "Italy": "Italian", "Japan": "Japanese", "Korea": "Korean",
    "South Korea": "Korean", "Lebanon": "Lebanese", "Malta": "Maltese", "Mexico": "Mexican",
    "Moldova": "Moldovan", "Morocco": "Moroccan", "Netherlands": "Dutch", "New Zealand": "Kiwi",
    "Norway": "Norwegian", "Poland": "Polish", "Portugal": "Portuguese", "Romania": "Romanian",
    "Russia": "Russian", "Scotland": "Scottish", "Slovenia": "Slovenian", "South Africa": "South African",
    "Spain": "Spanish", "Sweden": "Swedish", "Switzerland": "Swiss", "Turkey": "Turkish",
    "Ukraine": "Ukrainian", "United Kingdom": "British|UK", "United States": "American|USA",
    "Uruguay": "Uruguayan", "Serbia": "Serbian", "Slovakia": "Slovak", "Cyprus": "Cypriot",
}
GENRE_WORDS = {
    "Animation": "animated|cartoon", "Romance": "romantic", "History": "historical", "Horror": "scary",
    "Comedy": "funny|comedic", "Sci-Fi": "science fiction|scifi", "Science Fiction": "sci-fi|scifi",
    "Biography": "biographical|biopic", "Family": "kids|children|family-friendly", "Crime": "criminal",
    "Film-Noir": "noir", "Fantasy": "fantastical", "Thriller": "suspense", "Mystery": "whodunit",
    "War": "wartime", "Documentary": "documentaries|docs", "Sport": "sports|sporting", "Music": "musician",
}
_DECADE_WORDS = {"twenties": 2, "thirties": 3, "forties": 4, "fifties": 5, "sixties": 6, "seventies": 7,
                 "eighties": 8, "nineties": 9}
_DECADE = re.compile(r"\b(?:(1[89]|20)(\d)0s|'?(\d)0s|(twenties|thirties|forties|fifties|sixties|seventies|"
                     r"eighties|nineties))\b")


def stems(text: str) -> tuple[str, ...]:
    from engine.language.lexical import _stemmer
    return tuple(_stemmer.stemWord(w) for w in _WORD.findall(fold(text)))


def labelled_fields(description: str) -> dict[str, list[str]]:
    """'type: Red; harmonize: Beef, Lamb' -> {'type': ['Red'], 'harmonize': ['Beef', 'Lamb']}."""
    out: dict[str, list[str]] = {}
    for label, value in _PAIR.findall(description or ""):
        values = [v.strip() for v in value.split(", ") if v.strip()]
        if values:
            out.setdefault(label.strip(), []).extend(values)
    return out


def title_decade(title: str) -> int | None:
    m = _YEAR.search(str(title))
    return int(m.group(1)) // 10 * 10 if m else None


@dataclass(frozen=True)
class Constraint:
    """One thing the query asked for: a value (or values read the same way) of the catalogue."""
    label: str                         # "type", "country", "category", "decade", ...
    value: str                         # as the catalogue spells it: "Red", "Portugal", "1990s"
    said: str                          # the query's words that named it
    also: tuple[tuple[str, str], ...] = ()   # other (label, value) the same words name (OR)

    def entries(self) -> tuple[tuple[str, str], ...]:
        return ((self.label, self.value), *self.also)


class Facets:
    """(label, value) -> the items that have it, and the phrases that name each value."""

    def __init__(self, dataset):
        n = dataset.n_items
        self.n = n
        items: dict[tuple[str, str], list[int]] = {}
        for i, gs in enumerate(dataset.genres):
            for g in gs:
                items.setdefault(("category", g), []).append(i)
        if _has_labelled_descriptions(dataset.descriptions):
            for i in range(n):
                for label, values in labelled_fields(dataset.descriptions[i]).items():
                    for v in values:
                        items.setdefault((label, v), []).append(i)
        decades = [title_decade(t) for t in dataset.titles]
        if n and sum(d is not None for d in decades) >= 0.3 * n:
            for i, d in enumerate(decades):
                if d is not None:
                    items.setdefault(("decade", f"{d}s"), []).append(i)
        # a label is categorical when its values repeat (on average twice or more)
        per_label = Counter(label for label, _ in items)
        uses = Counter()
        for (label, _), its in items.items():
            uses[label] += len(its)
        keep = {label for label in per_label if label in ("category", "decade") or uses[label] >= 2 * per_label[label]}
        self.items = {key: np.asarray(its, dtype=np.int64) for key, its in items.items() if key[0] in keep}
        # a label some item has several values of (genres, grapes, dishes): values named together all count
        # ("romantic comedy" is Romance and Comedy); of a one-value label (type, country) any of them does
        self.multi = {label for label in keep
                      if sum(len(its) for (lb, _), its in self.items.items() if lb == label)
                      > len(np.unique(np.concatenate([its for (lb, _), its in self.items.items() if lb == label])))}
        self.phrases = self._phrases()
        self.longest = max((len(p) for p in self.phrases), default=0)
        # CJK values are found inside the query's text (those scripts put no spaces between words)
        self.cjk = sorted((p[0] for p in self.phrases if len(p) == 1 and _CJK.search(p[0])), key=len, reverse=True)

    def _phrases(self) -> dict[tuple[str, ...], list[tuple[str, str]]]:
        phrases: dict[tuple[str, ...], list[tuple[str, str]]] = {}

        def add(words, key):
            words = tuple(w for w in words if w)
            if words and not all(w.isdigit() for w in words) and key not in phrases.get(words, []):
                phrases.setdefault(words, []).append(key)

        by_label: dict[str, list[str]] = {}
        for label, value in self.items:
            by_label.setdefault(label, []).append(value)
        for label, values in by_label.items():
            lw = stems(label)
            value_stems = {v: stems(v) for v in values}
            common = set.intersection(*(set(s) for s in value_stems.values())) if len(values) > 1 else set()
            for v, vs in value_stems.items():
                forms = [vs]
                if "/" in v:                                   # "Syrah/Shiraz": either side
                    forms += [stems(side) for side in v.split("/")]
                if common and len(vs) > len(common):           # "light" for "Light-bodied"
                    forms.append(tuple(w for w in vs if w not in common))
                for extra in (COUNTRY_WORDS.get(v, ""), GENRE_WORDS.get(v, "")):
                    forms += [stems(x) for x in extra.split("|") if x]
                for f in forms:
                    add(f, (label, v))
                    if label not in ("category", "decade"):     # "low acidity", "acidity low"
                        add(f + lw, (label, v))
                        add(lw + f, (label, v))
        return phrases

    def constraints(self, query: str) -> list[Constraint]:
        """What the query names, in the order it says it."""
        found: list[tuple[int, Constraint]] = []
        text = fold(query)
        for m in _DECADE.finditer(text):
            decade = _decade_of(m)
            if decade is not None and ("decade", f"{decade}s") in self.items:
                found.append((m.start(), Constraint("decade", f"{decade}s", m.group(0))))
        text = _DECADE.sub(" ", text)
        for value in self.cjk:
            at = text.find(value)
            if at >= 0:
                keys = self.phrases[(value,)]
                found.append((at, Constraint(keys[0][0], keys[0][1], value, tuple(keys[1:]))))
                text = text[:at] + " " * len(value) + text[at + len(value):]
        words = _WORD.findall(text)
        toks = [stems(w)[0] if stems(w) else w for w in words]
        used = [False] * len(toks)
        spans = [(length, start) for length in range(min(self.longest, len(toks)), 0, -1)
                 for start in range(len(toks) - length + 1)]
        for length, start in spans:
            if any(used[start:start + length]):
                continue
            keys = self.phrases.get(tuple(toks[start:start + length]))
            if not keys:
                continue
            for j in range(start, start + length):
                used[j] = True
            keys = sorted(keys, key=lambda k: (k[0] == "category", k))   # a labelled field before a category
            pos = len(" ".join(words[:start]))
            found.append((pos, Constraint(keys[0][0], keys[0][1], " ".join(words[start:start + length]),
                                          tuple(keys[1:]))))
        return [c for _, c in sorted(found, key=lambda x: x[0])]

    def match(self, constraints) -> np.ndarray:
        """(n_items,) share of the constraints an item satisfies; values of a one-value label (type,
        country) named together count as one constraint, any of them satisfying it."""
        groups: dict[object, np.ndarray] = {}
        for c in constraints:
            group = (c.label, c.value) if c.label in self.multi else c.label
            has = groups.setdefault(group, np.zeros(self.n, dtype=bool))
            for key in c.entries():
                its = self.items.get(key)
                if its is not None:
                    has[its] = True
        if not groups:
            return np.zeros(self.n, dtype=np.float32)
        met = np.zeros(self.n, dtype=np.float32)
        for g in groups.values():
            met += g
        return met / np.float32(len(groups))


def _decade_of(m) -> int | None:
    century, tens, short, word = m.groups()
    if century:
        return int(century) * 100 + int(tens) * 10
    if short is not None:
        d = int(short)
        return 2000 + d * 10 if d <= 2 else 1900 + d * 10
    return 1900 + _DECADE_WORDS[word] * 10 if word else None


def _has_labelled_descriptions(descriptions) -> bool:
    """Most of a sample of the non-empty descriptions read 'label: value; label: value'."""
    sample = [d for d in (descriptions[i] for i in range(min(len(descriptions), 2000))) if d][:500]
    return bool(sample) and sum(len(labelled_fields(d)) >= 2 for d in sample) >= 0.5 * len(sample)


def describe(constraints) -> str:
    """'Red · Full-bodied · Portugal' (each value once, in the query's order)."""
    seen: list[str] = []
    for c in constraints:
        if c.value not in seen:
            seen.append(c.value)
    return " · ".join(seen)


def facets(dataset) -> Facets:
    return _cached(dataset, "facets", lambda: Facets(dataset))
