"""The explorer's encoded share follows the one catalogue cache (issue 21): written by someone else (a
training, the CLI) it is read again when the Explore view comes back and when a run ends; an import's
catalogue is encoded in the background after its EASE fit, with the progress in Explore."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _write_static_cache(db: Path, n: int | None = None) -> None:
    """What a training's item tower leaves behind (here: the static encoder, no TensorFlow), written by
    another process than the app's: the first `n` items, or all."""
    from engine.data.dataset import load_dataset
    from engine.encoder import catalogue
    from engine.store import open_store
    store = open_store(str(db))
    try:
        ds = load_dataset(store, "Demo movies", with_interactions=False)
        hashes = catalogue.text_hashes(ds)[:n]
        vectors = catalogue.encoder_by_name("minilm-static").encode([ds.item_text(i) for i in range(len(hashes))])
        catalogue._write_cache(catalogue.cache_path(store, ds.info.id, "minilm-static"), hashes, vectors)
    finally:
        store.close()


def test_the_explorer_reads_the_encoded_share_again_after_a_run_or_when_shown(qtbot, controller, tiny_db):
    from engine.explore.similarity import has_semantic
    panel = controller.explorer_panel
    controller.window.show_view("explore")
    qtbot.waitUntil(lambda: panel.rec is not None, timeout=60000)
    box = panel.search
    qtbot.waitUntil(lambda: "0% of the catalogue is encoded" in box.status.text(), timeout=30000)
    _write_static_cache(tiny_db, 50)                  # a quarter of the 200 items, by another process
    controller.window.show_view("train")
    controller.window.show_view("explore")            # the view comes back: the share is read again
    qtbot.waitUntil(lambda: "25% of the catalogue is encoded" in box.status.text(), timeout=30000)
    _write_static_cache(tiny_db)                      # all of it (a training's item tower did)
    controller.training_panel.job_finished.emit("done")   # a run ended: the explorer reads it again
    qtbot.waitUntil(lambda: has_semantic(panel.run.dataset), timeout=30000)
    assert box.status.text() == "Search by meaning with minilm-static vectors."
    assert not box.encode_button.isVisible() and panel.space.findData("semantic") >= 0


def test_an_import_is_encoded_in_the_background_after_its_ease_fit(qtbot, controller):
    from engine.explore.similarity import has_semantic
    from engine.ingest.importer import import_files
    panel = controller.explorer_panel
    controller.window.show_view("explore")
    qtbot.waitUntil(lambda: panel.rec is not None, timeout=60000)
    data = ROOT / "tests" / "data" / "ml-1m"
    summary = controller.state.store.call(import_files, [str(data / "ratings.dat"), str(data / "movies.dat")],
                                          name="ml1m sample")
    seen = []
    controller.encoding.started.connect(lambda d: seen.append(("started", d)))
    controller.encoding.progress.connect(lambda d, u: seen.append(("progress", d)))
    with qtbot.waitSignal(controller.encoding.ended, timeout=300000) as ended:
        controller._imported(summary)
        assert not controller.encoding.running             # not beside the EASE fit
    assert ended.args[:2] == [summary.dataset_id, "done"] and ended.args[2].encoded == 4
    assert seen[0] == ("started", summary.dataset_id)
    assert ("progress", summary.dataset_id) in seen
    qtbot.waitUntil(lambda: panel.run is not None and panel.run.dataset.info.id == summary.dataset_id
                    and has_semantic(panel.run.dataset), timeout=60000)
    assert "all-MiniLM-L6-v2" in panel.search.status.text()


def test_the_train_view_says_which_encoder_and_how_many_texts_are_encoded(qtbot, controller, tiny_db):
    import numpy as np

    from engine.data.dataset import load_dataset
    from engine.encoder import catalogue
    from engine.store import open_store
    line = controller.training_panel.encoder_line
    controller.window.show_view("train")
    want = "Item texts: all-MiniLM-L6-v2; 0 of 200 already encoded: the training first encodes 200."
    qtbot.waitUntil(lambda: line.text() == want, timeout=30000)
    assert line.isVisible()
    store = open_store(str(tiny_db))          # a training's cache of the first 150 texts (the count is what shows)
    ds = load_dataset(store, "Demo movies", with_interactions=False)
    catalogue._write_cache(catalogue.cache_path(store, ds.info.id, "all-MiniLM-L6-v2"), catalogue.text_hashes(ds)[:150],
                           np.zeros((150, 384), np.float32))
    store.close()
    controller.state.refresh_runs()          # what a finished run does
    qtbot.waitUntil(lambda: line.text().startswith("Item texts: all-MiniLM-L6-v2; 150 of 200 already encoded: "
                                                   "the training first encodes 50."), timeout=30000)
    form = controller.training_panel.form
    form.model.setCurrentIndex(form.model.findData("ease"))      # no item text read: no line
    assert not line.isVisible()
