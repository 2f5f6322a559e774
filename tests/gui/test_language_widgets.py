"""The search box and the plain-words line in Explore, with the real encoder (numpy in the app's
process, Keras in the child for the catalogue)."""
from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6.QtCore import Qt


@pytest.fixture
def films_db(tmp_path):
    from engine.store import open_store
    from tests.engine.movies import write_films
    path = tmp_path / "films.db"
    s = open_store(str(path))
    write_films(s)
    s.close()
    return path


def test_search_box_encodes_in_the_child_then_finds_by_meaning(qtbot, films_db):
    from engine.data.dataset import load_dataset
    from engine.store import open_store
    from llmrec_gui.widgets.search_box import SearchBox
    store = open_store(str(films_db))
    ds = load_dataset(store, "films")
    box = SearchBox(k=3)
    qtbot.addWidget(box)
    box.show()
    with qtbot.waitSignal(box.vectors_ready, timeout=20000) as ready:
        box.set_context(store, ds)
    assert ready.args == [False] and "0% of the catalogue" in box.status.text()
    assert box.encode_button.isVisible()
    from engine.explore.similarity import has_semantic
    with qtbot.waitSignal(box.encoded, timeout=300000) as done:
        box.start_encoding()
    assert done.args[0].encoded == 16
    qtbot.waitUntil(lambda: has_semantic(ds), timeout=20000)      # read back and attached
    assert not box.encode_button.isVisible()
    qtbot.keyClicks(box.line, "animated film for children")
    with qtbot.waitSignal(box.results_shown, timeout=60000) as shown:
        qtbot.keyClick(box.line, Qt.Key.Key_Return)
    first = shown.args[0].hits[0].title          # the three animated family films, in the fusion's order
    assert {h.title for h in shown.args[0].hits} == {"Toy Story (1995)", "Finding Nemo (2003)", "WALL·E (2008)"}
    assert box.hits.rowCount() == 3 and box.hits.item(0, 1).text() == first
    assert box.understood.text() == "Understood: <b>Animation · Family</b>"
    with qtbot.waitSignal(box.item_activated) as act:
        box.hits.cellDoubleClicked.emit(0, 1)
    assert act.args == [ds.titles.index(first)]
    store.close()


def test_plain_words_dislike_applies_and_undoes_in_explore(qtbot, controller):
    from engine.explore.feedback import list_feedback
    panel = controller.explorer_panel
    controller.window.show_view("explore")
    qtbot.waitUntil(lambda: panel.rec is not None and len(panel.rec.rows) == 10, timeout=60000)

    def shown():
        return [r.item for r in panel.rec.rows]
    line = panel.plain_words
    first = shown()[0]
    title = panel.run.dataset.titles[first]
    before = shown()
    line.line.setText(f"I don't like {title}, can you suggest others?")
    qtbot.keyClick(line.line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: line.apply_button.isEnabled(), timeout=60000)
    assert f"Dislike: {title}; demote 20 similar items" in line.understood.text()
    qtbot.mouseClick(line.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: first not in shown(), timeout=30000)
    store, ds_id, user = controller.state.store, panel.run.dataset.info.id, controller.state.user
    assert [(e.item, e.kind) for e in store.call(list_feedback, ds_id, user)] == [(first, "dislike")]
    assert line.undo_button.isEnabled()
    qtbot.mouseClick(line.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shown() == before, timeout=30000)
    assert store.call(list_feedback, ds_id, user) == []


def test_the_apps_language_path_never_imports_tensorflow(films_db):
    """Search and plain words run in the app's process: only the numpy encoder may load there."""
    code = f"""
import sys
from engine.store import open_store
from engine.data.dataset import load_dataset
from engine.encoder.catalogue import encode_catalogue
from engine.explore.similarity import set_semantic_vectors
from llmrec_gui.widgets.search_box import catalogue_vectors, run_search
from llmrec_gui.widgets.plain_words import understand_words
store = open_store({str(films_db)!r})
ds = load_dataset(store, "films")
encode_catalogue(store, ds, backend="numpy")
assert catalogue_vectors(store, 10**6, 5)[:2] == (0.0, None)      # nothing ever encoded: no dataset read
fraction, vectors, name = catalogue_vectors(store, ds.info.id, ds.n_items)
assert name == "all-MiniLM-L6-v2"
set_semantic_vectors(ds, vectors, encoder=name)
assert fraction == 1.0 and run_search(ds, "a toy robot", 3).hits
u, lines = understand_words(ds, "I don't like Inception")
assert lines == ["Dislike: Inception (2010); demote 20 similar items"], lines
bad = [m for m in ("tensorflow", "keras", "torch") if m in sys.modules]
assert not bad, bad
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


def test_heatmap_offers_the_semantic_space_once_the_catalogue_vectors_are_attached(qtbot, controller):
    import numpy as np

    from engine.explore.similarity import set_semantic_vectors
    panel = controller.explorer_panel
    controller.window.show_view("explore")
    qtbot.waitUntil(lambda: panel.rec is not None and len(panel.rec.rows) == 10, timeout=60000)
    panel.search.vectors_ready.emit(False)
    assert panel.space.findData("semantic") < 0
    ds = panel.run.dataset
    v = np.random.default_rng(0).normal(size=(ds.n_items, 8)).astype(np.float32)
    set_semantic_vectors(ds, v / np.linalg.norm(v, axis=1, keepdims=True))
    panel.search.vectors_ready.emit(True)
    at = panel.space.findData("semantic")
    assert at >= 0
    panel.space.setCurrentIndex(at)
    qtbot.waitUntil(lambda: panel.rec_space == "semantic", timeout=30000)
    items = [r.item for r in panel.rec.rows]
    expected = v[items] / np.linalg.norm(v[items], axis=1, keepdims=True)
    assert np.allclose(panel.rec_similarity, expected @ expected.T, atol=1e-4)
    panel.search.vectors_ready.emit(False)          # another dataset without vectors: the entry goes
    assert panel.space.findData("semantic") < 0 and panel.space.currentData() == "model"


def test_a_sentence_is_one_history_row_that_expands_and_one_ctrl_z(qtbot, controller):
    """"no more <genre>, <title> was boring" makes several entries: the history shows the sentence as one
    row that expands to them, and one Ctrl+Z (after a later click) takes the click back, the next one the
    whole sentence."""
    from engine.explore.feedback import list_feedback
    panel = controller.explorer_panel
    actions = controller.window.actions
    controller.window.show_view("explore")
    qtbot.waitUntil(lambda: panel.rec is not None and len(panel.rec.rows) == 10, timeout=60000)

    def shown():
        return [r.item for r in panel.rec.rows]
    before = shown()
    ds = panel.run.dataset
    first, genre = panel.rec.rows[0], panel.rec.rows[1].genres[0]
    line = panel.plain_words
    line.line.setText(f"no more {genre.lower()} films, {first.title} was boring")
    qtbot.keyClick(line.line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: line.apply_button.isEnabled(), timeout=60000)
    assert f"No {genre}: hide those items" in line.understood.text() and f"Dislike: {first.title}" in line.understood.text()
    qtbot.mouseClick(line.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: first.item not in shown() and len(panel.live.feedback) == 2, timeout=30000)
    assert not any(genre in ds.genres[i] for i in shown())
    fb = panel.feedback_view
    assert fb.topLevelItemCount() == 1
    row = fb.topLevelItem(0)
    assert row.text(0) == "Said" and first.title in row.text(1) and row.childCount() == 2
    assert {row.child(k).text(0) for k in range(2)} == {"Hidden", "Disliked"}
    fb.expandItem(row)
    assert row.isExpanded()
    other = shown()[0]
    with qtbot.waitSignal(panel.list_updated, timeout=20000):
        panel.give_feedback(other, "not_interested")
    assert fb.topLevelItemCount() == 2
    store, ds_id, user = controller.state.store, ds.info.id, controller.state.user
    with qtbot.waitSignal(panel.list_updated, timeout=20000):
        actions.undo.trigger()                                 # Ctrl+Z: the click
    assert [e.kind for e in store.call(list_feedback, ds_id, user)] == ["avoid", "dislike"]
    with qtbot.waitSignal(panel.list_updated, timeout=20000):
        actions.undo.trigger()                                 # Ctrl+Z: the whole sentence at once
    assert store.call(list_feedback, ds_id, user) == []
    qtbot.waitUntil(lambda: shown() == before, timeout=30000)
    assert fb.topLevelItemCount() == 0
