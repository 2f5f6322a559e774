"""Feedback in plain words: "I don't like Star Wars: Episode IV - A New Hope, less action and more comedy"
-> a dislike of that film plus a soft weight down on Action and up on Comedy.

Reading is deterministic and happens in this order (docs/language.md, "Plain words"):

1. titles first: whole catalogue titles are found in the sentence with their punctuation
   (engine.language.titles.TitleIndex.spans) and replaced by placeholders, so no comma, colon or genre
   word inside a title cuts it; equal titles (two wines called "Pauillac") become a question unless
   the sentence names the winery or year;
2. clauses: the rest is split at ",", ";", ".", "but", "and", "or" (and their Chinese equivalents);
3. intents per clause (engine.language.intents): the verb's class (like, more like, dislike, not
   interested, avoid, less / more, less popular, lighter) with negations counted before it ("I don't
   dislike X": neutral; "it's not that I don't like X": a like). A clause with items but no verb takes
   the previous clause's verb ("I loved X and Y", "I like X but not Y");
4. the clause's object: its titles, else a category said by name ("white wines" -> type White,
   "full-bodied"), else a title by close spelling (with its confidence), else categories named inside
   it, else the sentence encoder (a genre, or an item by meaning).

``understand`` only reads; ``entries`` turns an Understanding into feedback entries and ``apply`` stores
them on a live list as ONE sentence: one undoable action however many entries it made."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from engine.errors import EngineError
from engine.explore.categories import category_label
from engine.explore.feedback import Entry, undo_sentence
from engine.explore.live_list import DEMOTE_NEIGHBOURS
from engine.explore.similarity import has_semantic, semantic_vectors
from engine.language.categories import CategoryNames, category_names
from engine.language.intents import ClauseIntent, read_intent, strip_words
from engine.language.titles import TitleSpan, normalise, title_index

GENRE_MIN_SIMILARITY = 0.45      # encoder cosine for a free word to count as a genre
DARK_MIN_SIMILARITY = 0.5        # stricter for "lighter": 'war' lands on Drama at 0.45 when a dataset has no War
ITEM_MIN_SIMILARITY = 0.35       # encoder cosine for a phrase to stand for an item by meaning
CLOSE_TITLE_MIN = 0.82           # rapidfuzz ratio for a misspelled title to count
LESS_POPULAR_SHARE = 0.3         # "less popular": hide this share of the list's most popular items
MORE_LIKE_WEIGHT = 1.0           # "more like X": X's nearest items get this soft weight
DARK_WORDS = ("horror", "scary", "thriller", "violent", "war", "crime", "dark and disturbing")
MAX_CHOICES = 5                  # a question lists at most this many items

_SPLIT = re.compile(r"[.;!?。；！？\n]+|[,，、]|\b(?:but|and|or|also|though|however|plus|whereas)\b|"
                    r"但是|不过|但|而且|还有|并且|或者|和|也", re.IGNORECASE)
_SLOT = re.compile(r"«(\d+)»")
_FILLER_CLAUSE = re.compile(r"\b(?:can|could|would|will)\s+you\b|\bsuggest\b|\brecommend\b|\bplease\b|\bthanks?\b|"
                            r"\bothers?\b|\bsomething\s+else\b|\bhelp\b|推荐|谢谢|请", re.IGNORECASE)


@dataclass(frozen=True)
class Action:
    kind: str                     # like, more_like, dislike, neutral, not_interested, avoid, weight,
                                  # less_popular, lighter
    phrase: str                   # the words it came from
    items: tuple[int, ...] = ()   # the item(s) it is about
    categories: tuple[str, ...] = ()   # "genre=Horror", "body=Full-bodied" (avoid / weight / lighter)
    weight: float = 0.0           # weight: -1 less, +1 more
    how: str = ""                 # how the object was matched: title / close / category / encoder / meaning
    confidence: float = 1.0

    @property
    def genres(self) -> tuple[str, ...]:
        return tuple(c.partition("=")[2] for c in self.categories if c.startswith("genre="))


@dataclass(frozen=True)
class Question:
    """Two or more items answer to the same words: ask instead of guessing."""
    kind: str                     # the intent waiting for the answer
    phrase: str
    items: tuple[int, ...]
    column: str                   # what tells them apart: "winery", "year" or "id"
    choices: tuple[str, ...]      # one per item, in that column

    def text(self) -> str:
        if self.column == "title":
            return f"“{self.phrase}”: which one? {'; '.join(self.choices)} (say it again with the whole title)"
        return f"“{self.phrase}” from which {self.column}? {', '.join(self.choices)} (say it again with one of them)"


@dataclass(frozen=True)
class Understanding:
    text: str
    actions: tuple[Action, ...]
    not_understood: tuple[str, ...]   # clauses no pattern or match explained
    questions: tuple[Question, ...] = ()

    def describe(self, dataset, list_items=None) -> list[str]:
        """One line per action, as shown before applying ("Dislike: Inception (2010); demote 20 similar items")."""
        out = []
        for a in self.actions:
            names = ", ".join(dataset.titles[i] for i in a.items)
            cats = ", ".join(category_label(c) for c in a.categories)
            via = f" [{a.how} {a.confidence:.2f}]" if a.how in ("close", "meaning", "encoder") else ""
            out.append({
                "like": f"Like: {names} (joins your history){via}",
                "more_like": f"More like: {names} (counted as a like; its {DEMOTE_NEIGHBOURS} nearest items "
                             f"move up){via}",
                "dislike": f"Dislike: {names}; demote {DEMOTE_NEIGHBOURS} similar items{via}",
                "neutral": f"Not a dislike: {names or cats}; nothing changes{via}",
                "not_interested": f"Not interested: {names}; it leaves your list, nothing else changes{via}",
                "avoid": f"No {cats}: hide those items from your list{via}",
                "weight": f"{'More' if a.weight > 0 else 'Less'} {cats}: those items move "
                          f"{'up' if a.weight > 0 else 'down'} (a soft weight, nothing is hidden){via}",
                "lighter": f"Lighter: {cats} items move down (the encoder's darkest genres)",
                "less_popular": f"Less popular: hide the most popular {int(LESS_POPULAR_SHARE * 100)} % of your list",
            }[a.kind])
        out += [f"Question: {q.text()}" for q in self.questions]
        out += [f"Not understood: {c!r}" for c in self.not_understood]
        return out


# ---- reading ---------------------------------------------------------------------------------------

def understand(text: str, dataset, *, encoder=None) -> Understanding:
    """Read a sentence into actions and questions (nothing is applied). ``encoder``: anything with
    ``encode(texts)``; without it only titles, close spellings and category names are understood."""
    text = str(text).strip()
    if not text:
        raise EngineError("say what you would like to change, e.g. \"I don't like Inception\"")
    names = category_names(dataset)
    spans = _title_spans(text, dataset, names)
    masked = text
    for k in range(len(spans) - 1, -1, -1):
        masked = masked[:spans[k].start] + f" «{k}» " + masked[spans[k].end:]
    actions: list[Action] = []
    questions: list[Question] = []
    missed: list[str] = []
    previous: ClauseIntent | None = None
    pending: list[str] = []        # a clause of titles only, waiting for its verb ("Iron Man 3? Not for me.")
    last_slots: list[str] = []     # the titles of the clause before ("I watched X and loved it")
    for clause in (c.strip() for c in _SPLIT.split(masked) if c and c.strip()):
        slots = [spans[int(m.group(1))] for m in _SLOT.finditer(clause)]
        filler = bool(_FILLER_CLAUSE.search(clause)) and not slots
        intent = read_intent(clause, None if filler else previous)
        if intent is None:
            if slots and not strip_words(_SLOT.sub(" ", clause)):
                pending.append(clause)
            elif slots or _content(clause, names):
                missed.append(_unmask(clause, spans))
            continue
        if intent.inherited and strip_words(_SLOT.sub(" ", intent.object)):
            missed.append(_unmask(clause, spans))    # "but Y was too …": words we do not know, no guess
            continue
        if intent.kind not in ("less_popular", "lighter") and (pending or (not slots and not intent.object)):
            before = " ".join(pending) if pending else ("" if slots else " ".join(last_slots))
            clause = f"{before} {clause}"             # "X and Y were great", "… loved it": the titles before
            slots = [spans[int(m.group(1))] for m in _SLOT.finditer(clause)]
            pending = []
        got = _clause_actions(intent, clause, slots, spans, dataset, names, encoder, text)
        if got is None:
            if not _FILLER_CLAUSE.search(clause) or slots:
                missed.append(_unmask(clause, spans))
            continue
        acts, qs = got
        actions += acts
        questions += qs
        if acts or qs:
            previous = intent
            last_slots = [m.group(0) for m in _SLOT.finditer(clause)]
    missed += [_unmask(c, spans) for c in pending]
    asked = list({q.items: q for q in questions}.values())       # the same question once
    return Understanding(text, tuple(_dedupe(actions)), tuple(missed), tuple(asked))


def _title_spans(text: str, dataset, names: CategoryNames) -> list[TitleSpan]:
    quoted = [m for m in re.finditer(r"[《“\"](?P<t>[^》”\"]+)[》”\"]", text)]
    spans = title_index(dataset).spans(text, skip=names.keys)
    for m in quoted:     # a quoted name that is not a whole title: its close spelling
        if not any(s.start < m.end() and m.start() < s.end for s in spans):
            found = title_index(dataset).find(m.group("t"), n=1, cutoff=CLOSE_TITLE_MIN)
            if found:
                spans.append(TitleSpan(m.start(), m.end(), (found[0].item,), m.group("t")))
    return sorted(spans, key=lambda s: s.start)


def _unmask(clause: str, spans) -> str:
    return re.sub(r"\s+", " ", _SLOT.sub(lambda m: spans[int(m.group(1))].text, clause)).strip()


def _content(clause: str, names: CategoryNames) -> bool:
    """Whether an unexplained clause has words worth reporting ("Blorp zzz"), not just filler ("please")."""
    if _FILLER_CLAUSE.search(clause):
        return False
    words = strip_words(clause).split()
    return len(words) >= 2 or bool(names.find(clause))


def _clause_actions(intent: ClauseIntent, clause: str, slots, spans, dataset, names, encoder, sentence):
    """(actions, questions) of one clause, or None when its object is not found."""
    if intent.kind in ("less_popular", "lighter"):
        if intent.kind == "less_popular":
            return [Action("less_popular", clause)], []
        dark = _dark_genres(dataset, names, encoder)
        if dark:
            return [Action("lighter", clause, categories=dark, weight=-1.0, how="encoder")], []
        light = names.exact("light bodied")       # wines: lighter is a lighter body
        return ([Action("weight", clause, categories=light, weight=1.0, how="category")], []) if light else None
    acts: list[Action] = []
    qs: list[Question] = []
    if len(slots) == 1 and intent.object != f"«{spans.index(slots[0])}»":
        slots = [_longer_close_title(slots[0], _unmask(intent.object, spans), dataset)]
    for span in slots:
        items = _disambiguate(span, dataset, sentence)
        if len(items) == 1:
            acts.append(_item_action(intent, span.text, items[0], "title", 1.0))
        else:
            qs.append(_question(intent.item_kind, span.text, items, dataset))
    if slots:
        return acts, qs
    obj = intent.object
    if not obj:
        return None
    cats = names.exact(obj)
    if cats:
        return [_category_action(intent, obj, cats, "category", 1.0)], []
    named = obj[:1].isupper()           # a capitalised name ("the Pauillac") may be a part of titles
    found = [f for f in title_index(dataset).find(obj, n=MAX_CHOICES, cutoff=CLOSE_TITLE_MIN)
             if f.how != "contains" or named or 2 * len(normalise(obj)) >= len(normalise(dataset.titles[f.item]))]
    if found:                           # a word or two of a long title ("less violence") is not that title
        best = [f for f in found if f.score == found[0].score]
        if found[0].how == "close":     # equal spellings only: a close title is one title's items
            best = [f for f in best if normalise(dataset.titles[f.item]) == normalise(dataset.titles[found[0].item])]
        if len(best) > 1:               # equal titles, or a part of several titles: ask
            return [], [_question(intent.item_kind, obj, tuple(f.item for f in best), dataset)]
        how = "close" if found[0].how == "close" else "title"
        return [_item_action(intent, obj, found[0].item, how, found[0].score)], []
    cats = names.find(obj)
    if cats:
        return [_category_action(intent, obj, cats, "category", 1.0)], []
    if encoder is None or intent.inherited:
        return None
    if intent.on_category_first:
        g, conf = _genre_by_meaning(obj, dataset, names, encoder)
        if g:
            return [_category_action(intent, obj, (g,), "encoder", conf)], []
    item, conf = _item_by_meaning(obj, dataset, encoder)
    if item is not None:
        return [_item_action(intent, obj, item, "meaning", conf)], []
    g, conf = _genre_by_meaning(obj, dataset, names, encoder)
    if g:
        return [_category_action(intent, obj, (g,), "encoder", conf)], []
    return None


def _longer_close_title(span: TitleSpan, said: str, dataset) -> TitleSpan:
    """A title found inside a misspelled longer one ("Fury" in "Fury Bulelt"): the longer title when the
    clause's words spell it closely."""
    found = title_index(dataset).find(said, n=1, cutoff=CLOSE_TITLE_MIN)
    if found and found[0].how == "close" and len(normalise(dataset.titles[found[0].item])) > len(normalise(span.text)):
        return TitleSpan(span.start, span.end, (found[0].item,), said)
    return span


def _item_action(intent: ClauseIntent, phrase: str, item: int, how: str, conf: float) -> Action:
    return Action(intent.item_kind, phrase, (int(item),), how=how, confidence=float(conf))


def _category_action(intent: ClauseIntent, phrase: str, cats, how: str, conf: float) -> Action:
    kind, weight = intent.category_kind
    return Action(kind, phrase, categories=tuple(cats), weight=weight, how=how, confidence=float(conf))


def _disambiguate(span: TitleSpan, dataset, sentence: str) -> tuple[int, ...]:
    """Equal titles: keep those whose winery (or year) the sentence names; else all (a question)."""
    if len(span.items) == 1:
        return span.items
    said = f" {normalise(sentence.replace(span.text, ' '))} "
    column, values = _distinguishing(span.items, dataset)
    named = [i for i, v in zip(span.items, values) if column != "id" and normalise(v) and
             f" {normalise(v)} " in said]
    return tuple(named) if len(named) >= 1 else span.items


def _distinguishing(items, dataset) -> tuple[str, list[str]]:
    """What tells the items apart: their titles when they differ, else the winery in the description,
    else the year, else the id."""
    if len({normalise(dataset.titles[i]) for i in items}) == len(items):
        return "title", [dataset.titles[i] for i in items]
    descs = dataset.descriptions
    if descs is not None:
        wineries = [re.search(r"winery name:\s*([^;]+)", str(descs[i]) or "") for i in items]
        if all(wineries) and len({w.group(1).strip() for w in wineries if w}) == len(items):
            return "winery", [w.group(1).strip() for w in wineries if w]
    years = [m.group(1) if (m := re.search(r"\((\d{4})\)\s*$", dataset.titles[i])) else "" for i in items]
    if all(years) and len(set(years)) == len(items):
        return "year", years
    return "id", [str(dataset.item_ids[i]) for i in items]


def _question(kind: str, phrase: str, items, dataset) -> Question:
    pop = title_index(dataset).popularity
    items = tuple(sorted(items, key=lambda i: -pop[i])[:MAX_CHOICES])
    column, values = _distinguishing(items, dataset)
    return Question(kind, phrase, items, column, tuple(values))


def _genre_by_meaning(phrase: str, dataset, names: CategoryNames, encoder,
                      min_similarity: float = GENRE_MIN_SIMILARITY) -> tuple[str | None, float]:
    genres = names.genres
    if not genres or not phrase:
        return None, 0.0
    sims = names.genre_vectors(encoder) @ encoder.encode([phrase])[0]
    best = int(np.argmax(sims))
    return (f"genre={genres[best]}", float(sims[best])) if sims[best] >= min_similarity else (None, float(sims[best]))


def _item_by_meaning(phrase: str, dataset, encoder) -> tuple[int | None, float]:
    if not has_semantic(dataset):
        return None, 0.0
    sims = semantic_vectors(dataset) @ encoder.encode([phrase])[0]
    best = int(np.argmax(sims))
    return (best, float(sims[best])) if sims[best] >= ITEM_MIN_SIMILARITY else (None, float(sims[best]))


def _dark_genres(dataset, names: CategoryNames, encoder) -> tuple[str, ...]:
    found: list[str] = []
    for word in DARK_WORDS:
        cats = names.exact(word)
        if not cats and encoder is not None:
            g, _ = _genre_by_meaning(word, dataset, names, encoder, DARK_MIN_SIMILARITY)
            cats = (g,) if g else ()
        found += [c for c in cats if c.startswith("genre=") and c not in found]
    return tuple(found)


def _dedupe(actions: list[Action]) -> list[Action]:
    """Equal actions once; a later word on the same items replaces an earlier one ("I watched X and loved
    it": a like), except that a neutral stays neutral ("I don't hate X but I don't love it either")."""
    out: list[Action] = []
    for a in actions:
        same = [b for b in out if a.items and b.items == a.items]
        if any(b.kind == "neutral" for b in same):
            continue
        out = [b for b in out if b not in same]
        if not any((b.kind, b.items, b.categories, b.weight) == (a.kind, a.items, a.categories, a.weight) for b in out):
            out.append(a)
    return out


# ---- applying: one sentence, one undoable action -------------------------------------------------

def entries(understanding: Understanding, dataset, shown_items=()) -> list[Entry]:
    """The feedback entries a sentence stands for. Items: like / dislike / not interested ("more like X":
    a like of X plus a soft weight up on X's nearest items, category "near=<item>"); categories: avoid
    (hidden) or weight (soft). "Less popular" marks the most popular share of the list on screen."""
    out: list[Entry] = []
    item_kind = {"like": "like", "more_like": "like", "dislike": "dislike", "not_interested": "not_interested"}
    for a in understanding.actions:
        if a.kind in item_kind:
            out += [Entry(item_kind[a.kind], int(i)) for i in a.items]
            if a.kind == "more_like":
                out += [Entry("weight", category=f"near={int(i)}", weight=MORE_LIKE_WEIGHT) for i in a.items]
        elif a.kind == "avoid":
            out += [Entry("avoid", category=c) for c in a.categories]
        elif a.kind in ("weight", "lighter"):
            out += [Entry("weight", category=c, weight=a.weight) for c in a.categories]
        elif a.kind == "less_popular":
            pop = title_index(dataset).popularity
            shown = [int(i) for i in shown_items]
            n = max(1, int(round(LESS_POPULAR_SHARE * len(shown)))) if shown else 0
            out += [Entry("not_interested", i) for i in sorted(shown, key=lambda i: -pop[i])[:n]]
    last: dict = {}                 # one entry per item or category: the later word wins ("I saw X and loved it")
    for k, e in enumerate(out):
        last[e.item if e.item >= 0 else (e.kind, e.category)] = k
    return [e for k, e in enumerate(out) if last[e.item if e.item >= 0 else (e.kind, e.category)] == k]


def apply(understanding: Understanding, recs, k: int = 10) -> list[int]:
    """Apply a sentence to a live ``engine.explore.live_list.UserRecommendations`` as one undoable
    action; returns the new feedback ids (``recs.undo(any of them)`` takes the whole sentence back)."""
    shown = [r.item for r in recs.rerank(0.0, "mmr", k).rows]
    return recs.say(understanding.text, entries(understanding, recs.dataset, shown))


def record(store, dataset_id: int, user: int, sentence: str, sentence_entries) -> list[int]:
    """Store a sentence's entries for a user (the app's path: its list re-reads them); returns the ids."""
    from engine.explore.feedback import record_sentence
    return record_sentence(store, dataset_id, user, sentence, sentence_entries)


def undo(store, feedback_ids) -> None:
    """Take a whole sentence back (any of its ids will do)."""
    for fid in list(feedback_ids)[:1]:
        undo_sentence(store, fid)
