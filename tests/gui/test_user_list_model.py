"""The user picker at a million users: a lazy model (only visible rows are made), a search per keystroke
that does a page of work (counted `find` calls and the GUI thread's CPU time, never wall-clock),
more matches fetched on scroll, and picks emitted only for the user's own clicks."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.explore.user_search import PAGE, UserSearch
from llmrec_gui.widgets.user_picker import UserPicker

N = 1_000_000


@pytest.fixture(scope="module")
def million():
    ids = np.array([f"u{u:07d}" for u in range(N)], dtype=object)
    counts = np.arange(N) % 97
    return ids, counts


def test_search_finds_lazily_and_exactly():
    s = UserSearch(["Alice", "bob", "alicia", "Bobby", "carol"])
    rows, resume = s.search("ALI")
    assert rows.tolist() == [0, 2] and resume == -1
    rows, resume = s.search("b", 0, limit=1)
    assert rows.tolist() == [1] and resume > 0
    rows, resume = s.search("b", resume, limit=5)
    assert rows.tolist() == [3] and resume == -1                   # one hit per row ("Bobby" has three b's)
    assert s.search("zz")[0].tolist() == []


def test_million_users_per_keystroke(qtbot, million):
    ids, counts = million
    picker = UserPicker()
    qtbot.addWidget(picker)
    picker.resize(300, 400)
    picker.set_user_arrays(ids, counts)
    picker.show()
    qtbot.waitExposed(picker)
    model = picker.model
    assert model.rowCount() == N
    picker.grab()
    assert 0 < model.rows_made < 200                               # only the visible rows were made

    model.set_filter("u")                                          # builds the search once, then a page
    cpu = []
    for text in ("u00", "u004", "u0042", "u00424", "u004242", "nobody"):
        made, finds = model.rows_made, model._search.finds
        t = time.thread_time()
        picker.search.setText(text)                                # the keystroke, as the user types it
        picker.grab()
        cpu.append(time.thread_time() - t)
        assert model._search.finds - finds <= PAGE + 1             # a page of work, whatever the 1M rows
        assert model.rows_made - made < 200
    assert picker.proxy.rowCount() == 0                            # "nobody" matches nothing
    assert max(cpu) < 0.05, cpu                                     # < 50 ms of CPU per keystroke

    picker.search.setText("u00424")                                 # u0042400..u0042499 and u1004240.. etc
    first = model.rowCount()
    assert first == PAGE or model.canFetchMore() is False
    want = [u for u in range(N) if "u00424" in ids[u]]
    while model.canFetchMore():
        model.fetchMore()
    assert [model.user_at(r) for r in range(model.rowCount())] == want

    picked = []
    picker.user_picked.connect(picked.append)
    picker.select(want[3])                                           # programmatic: no pick emitted
    assert picker.view.currentIndex().data(Qt.ItemDataRole.UserRole) == want[3] and picked == []
    picker.view.setCurrentIndex(model.index(5, 0))
    assert picked == [want[5]]


def test_most_active_first_stays_true_when_a_count_changes(qtbot):
    """Issue 22 item 6: after a like adds an interaction the order follows the new count, the picked user
    stays the current row, and a change that keeps the order does not re-sort."""
    picker = UserPicker()
    qtbot.addWidget(picker)
    picker.set_user_arrays(["a", "b", "c", "d"], [20, 67, 20, 5])
    picker.sort.setCurrentIndex(picker.sort.findData("activity"))

    def shown():
        return [picker.model.data(picker.model.index(r, 0), Qt.ItemDataRole.UserRole)
                for r in range(picker.model.rowCount())]

    assert shown() == [1, 0, 2, 3]
    picker.select(3)
    picker.set_count(3, 68)                     # d: 5 -> 68 interactions
    assert shown() == [3, 1, 0, 2]
    assert picker.view.currentIndex().data(Qt.ItemDataRole.UserRole) == 3
    order = picker.model._order
    picker.set_count(1, 66)                     # b: 67 -> 66, still second: no new order
    assert picker.model._order is order and shown() == [3, 1, 0, 2]
    counts = [picker.model.count_of(u) for u in shown()]
    assert counts == sorted(counts, reverse=True)
