"""A user's feedback as stored: on items (like, dislike, not interested) or on categories (avoid: hide
the category's items; weight: a soft push up or down), recorded, listed, undone. A plain-words sentence is
stored as several entries sharing one sentence id and is undone as one action. Thin wrappers the CLI, the
app and the live list (engine.explore.live_list) share."""
from __future__ import annotations

from dataclasses import dataclass

from engine.errors import EngineError, NotFoundError
from engine.store import repository as repo

KINDS = ("like", "dislike", "not_interested")           # on an item
CATEGORY_KINDS = ("avoid", "weight")                     # on a category ("genre=Horror", "body=Full-bodied")


@dataclass(frozen=True)
class FeedbackEntry:
    id: int
    item: int                # -1 for a category entry
    kind: str
    created_at: str = ""     # ISO time (UTC) the feedback was given; "" for in-memory entries
    category: str = ""       # "genre=Horror" for avoid / weight
    weight: float = 0.0      # weight: -1 (less) .. +1 (more)
    sentence_id: int | None = None   # entries of one sentence share it (the first entry's id)
    sentence: str = ""       # the words, for a sentence's entries


@dataclass(frozen=True)
class Entry:
    """One entry a sentence stands for, before it is stored."""
    kind: str
    item: int = -1
    category: str = ""
    weight: float = 0.0


def record_feedback(store, dataset_id: int, user: int, item: int, kind: str) -> int:
    if kind not in KINDS:
        raise EngineError(f"unknown feedback {kind!r}; use one of {', '.join(KINDS)}")
    with store.write_session() as s:   # waits while another program writes
        return repo.add_feedback(s, dataset_id, int(user), int(item), kind)


def record_sentence(store, dataset_id: int, user: int, sentence: str, entries) -> list[int]:
    """Store a sentence's entries in one transaction, grouped: one undoable action. Returns their ids."""
    entries = list(entries)
    for e in entries:
        if e.kind not in KINDS + CATEGORY_KINDS:
            raise EngineError(f"unknown feedback {e.kind!r}")
    ids: list[int] = []
    with store.write_session() as s:
        for e in entries:
            ids.append(repo.add_feedback(
                s, dataset_id, int(user), int(e.item) if e.kind in KINDS else -1, e.kind,
                category=e.category or None, weight=e.weight if e.kind == "weight" else None,
                sentence_id=ids[0] if ids else -1, sentence=sentence))
    return ids


def list_feedback(store, dataset_id: int, user: int) -> list[FeedbackEntry]:
    with store.session() as s:
        return [FeedbackEntry(*row) for row in repo.active_feedback(s, dataset_id, int(user))]


def undo_feedback(store, feedback_id: int) -> None:
    with store.write_session() as s:
        repo.undo_feedback(s, int(feedback_id))


def undo_sentence(store, feedback_id: int) -> list[int]:
    """Undo the whole sentence `feedback_id` belongs to (or that one entry, if it came from a click);
    returns the ids undone."""
    with store.write_session() as s:
        ids = repo.sentence_entries(s, int(feedback_id))
        for fid in ids:
            repo.undo_feedback(s, fid)
    return ids


def group_sentences(entries) -> list[list[FeedbackEntry]]:
    """Active entries grouped as the user gave them: a sentence's entries together, a click alone
    (oldest first). What the history and `feedback list` show as one row each."""
    groups: dict[object, list[FeedbackEntry]] = {}
    for e in entries:
        groups.setdefault(("s", e.sentence_id) if e.sentence_id is not None else ("e", e.id), []).append(e)
    return list(groups.values())


def give_feedback(store, dataset_id: int, user: int, item: int, kind: str) -> list[FeedbackEntry]:
    """Record one feedback and return the user's active feedback (what a live list applies)."""
    record_feedback(store, dataset_id, user, item, kind)
    return list_feedback(store, dataset_id, user)


def undo_and_list(store, dataset_id: int, user: int, feedback_id: int | None = None) -> list[FeedbackEntry]:
    """Undo one of the user's actions (default: the latest): the entry, or the whole sentence it belongs
    to (Ctrl+Z and the history's Undo take a sentence back at once). Returns what stays active."""
    entries = list_feedback(store, dataset_id, user)
    if not entries:
        raise NotFoundError("there is no feedback to undo")
    fid = entries[-1].id if feedback_id is None else int(feedback_id)
    if not any(e.id == fid for e in entries):
        raise NotFoundError(f"no active feedback {fid} for this user")
    gone = set(undo_sentence(store, fid))
    return [e for e in entries if e.id not in gone]
