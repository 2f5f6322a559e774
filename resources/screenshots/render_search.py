"""Render the search box with a hybrid search's understood constraints and hit list (docs/language.md).

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/screenshots/render_search.py --db DB \
        [--artifacts DIR] --dataset xwines "full-bodied Portuguese red"

The catalogue should be encoded (`llmrec encode`); without vectors the search runs on words,
attributes and titles and the status line says so."""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("query")
    ap.add_argument("--db", required=True)
    ap.add_argument("--artifacts")
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "search-hybrid-xwines.png"))
    args = ap.parse_args()
    from PySide6.QtWidgets import QApplication

    from engine.data.dataset import load_dataset
    from engine.errors import EngineError
    from engine.explore.similarity import attach_semantic
    from engine.language.search import search_items
    from engine.store import open_store
    from llmrec_gui.widgets.search_box import SearchBox
    app = QApplication.instance() or QApplication([sys.argv[0]])
    store = open_store(args.db, artifacts=args.artifacts)
    ds = load_dataset(store, args.dataset, with_interactions=False)
    try:
        attach_semantic(store, ds)
    except EngineError:
        pass
    box = SearchBox(k=args.k)
    box.dataset = ds
    box.hits.set_genres_label(ds.info.genres_label)
    box.encode_button.setVisible(False)
    box.line.setText(args.query)
    box._show(search_items(ds, args.query, args.k))
    box.hits.setMaximumHeight(16777215)
    box.resize(1000, 400)
    box.show()
    app.processEvents()
    box.grab().save(args.out)
    store.close()
    print(args.out)


if __name__ == "__main__":
    main()
