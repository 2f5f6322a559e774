"""Feedback in plain words: "I don't like Inception, can you suggest others?" -> a dislike of
Inception (2010), whose 20 nearest items are demoted by the feedback engine.

Parsing is deterministic: intent patterns (English and Chinese) pick the intent and the phrase it is
about; the phrase is matched to a title (engine.language.titles: exact, whole words, close spelling) or to a
genre (its name, else the sentence encoder maps the free words onto the dataset's genre names), and
when neither fits, the encoder's nearest item by meaning is offered. ``understand`` only reads;
``apply`` sends each action through ``engine.explore.live_list`` (like / dislike / not interested), so every
step is stored, shown and undoable like a click."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from engine.errors import EngineError
from engine.explore.feedback import record_feedback, undo_feedback
from engine.explore.live_list import DEMOTE_NEIGHBOURS
from engine.explore.similarity import _cached, has_semantic, semantic_vectors
from engine.language.titles import normalise, title_index

GENRE_MIN_SIMILARITY = 0.45      # encoder cosine for a free word to count as a genre
DARK_MIN_SIMILARITY = 0.5        # stricter for "lighter": 'war' lands on Drama at 0.45 when a dataset has no War
ITEM_MIN_SIMILARITY = 0.35       # encoder cosine for a phrase to stand for an item by meaning
LESS_POPULAR_SHARE = 0.3         # "less popular": hide this share of the list's most popular items
# What "lighter" moves away from, said in words the encoder maps onto the dataset's own genres.
DARK_WORDS = ("horror", "scary", "thriller", "violent", "war", "crime", "dark and disturbing")
CN_GENRES = {"恐怖": "horror", "喜剧": "comedy", "动画": "animation", "爱情": "romance", "动作": "action",
             "科幻": "sci-fi", "战争": "war", "惊悚": "thriller", "剧情": "drama", "纪录": "documentary",
             "犯罪": "crime", "悬疑": "mystery", "奇幻": "fantasy", "冒险": "adventure", "家庭": "family",
             "音乐": "musical", "西部": "western", "运动": "sport", "红葡萄酒": "red", "白葡萄酒": "white",
             "起泡酒": "sparkling"}

_I = r"(?:i\s+|i'm\s+|we\s+)?"
PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple((kind, re.compile(p, re.IGNORECASE)) for kind, p in (
    ("seen", _I + r"(?:have\s+|'ve\s+|already\s+|'ve\s+already\s+|have\s+already\s+)?(?:seen|watched|tried|tasted|read)\s+(?P<x>.+)"),
    ("seen", r"(?:我)?(?:已经)?(?:看过|看过了|喝过|读过)(?:了)?\s*(?P<x>.+)"),
    ("less_popular", r"(?P<x>(?:less|not\s+so|not\s+too|not)\s+(?:popular|mainstream|famous|well[- ]known)|obscure|hidden\s+gems?|lesser[- ]known|niche|冷门|小众|不那么热门|不太热门)"),
    ("lighter", r"(?P<x>lighter|light[- ]hearted|more\s+fun|funnier|cheerful|happier|feel[- ]good|less\s+dark|less\s+serious|轻松|欢快|开心)"),
    ("dislike", _I + r"(?:don'?t|do\s+not|didn'?t|did\s+not|really\s+don'?t)\s+(?:like|love|enjoy|want)\s+(?P<x>.+)"),
    ("dislike", _I + r"(?:hate|hated|dislike|disliked|can'?t\s+stand)\s+(?P<x>.+)"),
    ("dislike", r"(?:not\s+(?:a\s+fan\s+of|into)|no\s+more|enough\s+of|without|avoid|skip)\s+(?P<x>.+)"),
    ("dislike", r"(?:我)?(?:不喜欢|讨厌|不想看|不要|别推荐|不想要)\s*(?P<x>.+)"),
    ("dislike", r"^no\s+(?P<x>.+)"),
    ("more_like", r"(?:more|something|anything|others?|films?|movies?|things?|items?|wines?|books?)\s+(?:like|similar\s+to)\s+(?P<x>.+)"),
    ("more_like", r"(?:similar\s+to|like)\s+(?P<x>.+)"),
    ("more_like", _I + r"(?:really\s+)?(?:love|loved|liked|enjoy|enjoyed)\s+(?P<x>.+)"),
    ("more_like", r"(?:我)?(?:喜欢|想要更多|多来点|再来点|更多|类似|像)\s*(?P<x>.+?)(?:一样|那样|这样)?(?:的)?(?:电影|片子|作品|酒)?$"),
))
_CLAUSE_SPLIT = re.compile(r"[.;!?。；！？\n]+|,\s*(?:and|but)\s+|\s+(?:and also|but|and)\s+(?=i\b|no\b|more\b|something\b)|，",
                           re.IGNORECASE)
_TAIL = re.compile(r"\s*(?:[,:(]|\bcan you\b|\bcould you\b|\bplease\b|\bso\b|\bany\s?more\b|\bthough\b|\banymore\b|"
                   r"\bat all\b|\bfor me\b|，|能|可以|请|吗).*$", re.IGNORECASE)
_FILLER = re.compile(r"^(?:the\s+film\s+|the\s+movie\s+|movies?\s+|films?\s+|any\s+|more\s+|so\s+much\s+|very\s+much\s+)+|"
                     r"\s+(?:films?|movies?|ones|stuff|please|much|very much|too|either)$", re.IGNORECASE)
_BOOK_TITLE = re.compile(r"[《“\"'](?P<t>[^》”\"']+)[》”\"']")


@dataclass(frozen=True)
class Action:
    kind: str                    # "dislike", "more_like", "seen", "avoid_genre", "less_popular", "lighter"
    phrase: str                  # the words it came from
    items: tuple[int, ...] = ()  # the item(s) it is about (dislike / more_like / seen)
    genres: tuple[str, ...] = ()  # the genres it is about (avoid_genre / lighter)
    how: str = ""                # how the phrase was matched: exact / contains / close / meaning / genre name / encoder
    confidence: float = 1.0


@dataclass(frozen=True)
class Understanding:
    text: str
    actions: tuple[Action, ...]
    not_understood: tuple[str, ...]   # clauses no pattern or match explained

    def describe(self, dataset, list_items=None) -> list[str]:
        """One line per action, as shown before applying ("Dislike: Inception (2010); demote 20 similar items")."""
        out = []
        for a in self.actions:
            names = ", ".join(dataset.titles[i] for i in a.items)
            via = f" [{a.how} {a.confidence:.2f}]" if a.how not in ("exact", "genre name", "") else ""
            if a.kind == "dislike":
                out.append(f"Dislike: {names}; demote {DEMOTE_NEIGHBOURS} similar items{via}")
            elif a.kind == "more_like":
                out.append(f"More like: {names} (counted as a like, your list leans towards it){via}")
            elif a.kind == "seen":
                out.append(f"Seen: {names}; it leaves your list, nothing else changes{via}")
            elif a.kind == "avoid_genre":
                out.append(f"No {', '.join(a.genres)}: hide those items from your list{via}")
            elif a.kind == "lighter":
                out.append(f"Lighter: hide {', '.join(a.genres)} items from your list (the encoder's darkest genres)")
            elif a.kind == "less_popular":
                out.append(f"Less popular: hide the most popular {int(LESS_POPULAR_SHARE * 100)} % of your list")
        out += [f"Not understood: {c!r}" for c in self.not_understood]
        return out


# ---- matching phrases to items and genres ------------------------------------------------------

def _clean(phrase: str) -> str:
    m = _BOOK_TITLE.search(phrase)
    if m:
        return m.group("t").strip()
    phrase = _TAIL.sub("", phrase.strip())
    for _ in range(3):
        phrase = _FILLER.sub("", phrase).strip()
    return phrase.strip(" '\"“”《》")


def _genre_names(dataset) -> list[str]:
    return sorted({g for gs in dataset.genres for g in gs})


def _genre_vectors(dataset, encoder):
    return _cached(dataset, "genre_name_vectors", lambda: encoder.encode(_genre_names(dataset)))


def match_genres(phrase: str, dataset, encoder=None,
                 min_similarity: float = GENRE_MIN_SIMILARITY) -> tuple[tuple[str, ...], str, float]:
    """Genres a phrase names: by name ('horror', 'horror films', '恐怖'), else the encoder's nearest
    genre names above GENRE_MIN_SIMILARITY. Returns (genres, how, confidence)."""
    names = _genre_names(dataset)
    by_norm = {normalise(g): g for g in names}
    for cn, en in CN_GENRES.items():
        if cn in phrase:
            phrase = en
    p = normalise(phrase)
    words = p.split()
    cands = [p, p.rstrip("s"), " ".join(w.rstrip("s") for w in words)] + words + [w.rstrip("s") for w in words]
    for c in cands:
        for key in (c, c.replace(" ", "-"), c.replace(" ", "")):
            if key in by_norm:
                return (by_norm[key],), "genre name", 1.0
    if encoder is None or not names or not p:
        return (), "", 0.0
    sims = _genre_vectors(dataset, encoder) @ encoder.encode([phrase])[0]
    best = int(np.argmax(sims))
    if sims[best] < min_similarity:
        return (), "", float(sims[best])
    return (names[best],), "encoder", float(sims[best])


def match_item(phrase: str, dataset, encoder=None) -> tuple[int | None, str, float]:
    """The item a phrase names: title match first, else the nearest item by meaning."""
    found = title_index(dataset).find(phrase)
    if found:
        return found[0].item, found[0].how, found[0].score
    if encoder is None or not has_semantic(dataset):
        return None, "", 0.0
    sims = semantic_vectors(dataset) @ encoder.encode([phrase])[0]
    best = int(np.argmax(sims))
    return (best, "meaning", float(sims[best])) if sims[best] >= ITEM_MIN_SIMILARITY else (None, "", float(sims[best]))


def understand(text: str, dataset, *, encoder=None) -> Understanding:
    """Read a sentence into actions (nothing is applied). ``encoder``: anything with ``encode(texts)``;
    without it only exact title and genre names are understood."""
    text = str(text).strip()
    if not text:
        raise EngineError("say what you would like to change, e.g. \"I don't like Inception\"")
    actions, missed = [], []
    for clause in (c.strip() for c in _CLAUSE_SPLIT.split(text)):
        if not clause:
            continue
        action = _understand_clause(clause, dataset, encoder)
        if action is None:
            missed.append(clause)
        else:
            actions.append(action)
    return Understanding(text, tuple(actions), tuple(missed))


def _understand_clause(clause: str, dataset, encoder) -> Action | None:
    for kind, pattern in PATTERNS:
        m = pattern.search(clause)
        if not m:
            continue
        phrase = m.group("x")
        if kind == "less_popular":
            return Action("less_popular", phrase)
        if kind == "lighter":
            genres = _dark_genres(dataset, encoder)
            return Action("lighter", phrase, genres=genres, how="encoder") if genres else None
        target = _clean(phrase)
        if not target:
            continue
        if kind == "dislike":   # a genre's name, then a title, then a genre by meaning, then an item by meaning
            genres, ghow, gconf = match_genres(target, dataset, None)
            if genres:
                return Action("avoid_genre", target, genres=genres, how=ghow, confidence=gconf)
            item, how, conf = match_item(target, dataset, None)
            if item is not None and how in ("exact", "contains"):
                return Action("dislike", target, (item,), how=how, confidence=conf)
            genres, ghow, gconf = match_genres(target, dataset, encoder)
            if genres:
                return Action("avoid_genre", target, genres=genres, how=ghow, confidence=gconf)
        item, how, conf = match_item(target, dataset, encoder)
        if item is not None:
            return Action(kind, target, (item,), how=how, confidence=conf)
    return None


def _dark_genres(dataset, encoder) -> tuple[str, ...]:
    found = []
    for word in DARK_WORDS:
        genres, _, _ = match_genres(word, dataset, encoder, DARK_MIN_SIMILARITY)
        found += [g for g in genres if g not in found]
    return tuple(found)


# ---- applying through the feedback engine -----------------------------------------------------

def feedback_pairs(understanding: Understanding, dataset, pool_items, shown_items) -> list[tuple[int, str]]:
    """The (item, kind) feedback entries a sentence stands for, given the user's candidate pool and
    the list on screen. Genre and popularity actions hide matching items as "not interested"."""
    pairs: list[tuple[int, str]] = []
    kinds = {"dislike": "dislike", "more_like": "like", "seen": "not_interested"}
    for a in understanding.actions:
        if a.kind in kinds:
            pairs += [(int(i), kinds[a.kind]) for i in a.items]
        elif a.kind in ("avoid_genre", "lighter"):
            pairs += [(int(i), "not_interested") for i in pool_items if set(dataset.genres[int(i)]) & set(a.genres)]
        elif a.kind == "less_popular":
            pop = title_index(dataset).popularity
            shown = [int(i) for i in shown_items]
            n = max(1, int(round(LESS_POPULAR_SHARE * len(shown)))) if shown else 0
            pairs += [(i, "not_interested") for i in sorted(shown, key=lambda i: -pop[i])[:n]]
    seen: set[int] = set()
    return [p for p in pairs if not (p[0] in seen or seen.add(p[0]))]    # one entry per item


def apply(understanding: Understanding, recs, k: int = 10) -> list[int]:
    """Apply a sentence to a live ``engine.explore.live_list.UserRecommendations``; returns the new feedback ids
    (``recs.undo(id)`` on each takes the sentence back)."""
    shown = [r.item for r in recs.rerank(0.0, "mmr", k).rows]
    pairs = feedback_pairs(understanding, recs.dataset, recs.candidates().items, shown)
    actions = {"like": recs.like, "dislike": recs.dislike, "not_interested": recs.not_interested}
    return [actions[kind](item) for item, kind in pairs]


def record(store, dataset_id: int, user: int, pairs) -> list[int]:
    """Store (item, kind) entries for a user (the app's path: its list re-reads them); returns the ids."""
    return [record_feedback(store, dataset_id, user, item, kind) for item, kind in pairs]


def undo(store, feedback_ids) -> None:
    """Take a whole sentence back."""
    for fid in feedback_ids:
        undo_feedback(store, fid)
