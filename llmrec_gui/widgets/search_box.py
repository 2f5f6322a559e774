"""Free-text search in Explore: a line to type in, the understood constraints ("Red · Full-bodied ·
Portugal") and the hits as a list (widgets.search_results), ranked by the engine's hybrid search
(words, meaning, catalogue attributes, titles: engine.language.search). Without the encoded
catalogue the search still runs on words, attributes and titles and says so.
The catalogue's vectors are read once through the store process and attached to the explorer's
dataset (so "more like this", explanations and plain words see them too); each query is then encoded
by the numpy forward pass in a worker thread of the app (TensorFlow never enters the app's process).
Encoding the catalogue runs in the child process, with progress and cancel."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from llmrec_gui import workers
from llmrec_gui.child_jobs import ChildJob
from llmrec_gui.widgets.search_results import SearchResults


def catalogue_vectors(store, dataset_id: int, n_items: int):
    """Store-process job: (share of the catalogue encoded, its vectors when all of it is, else None,
    the encoder's cache name). Takes the dataset's id, not the dataset: the app never pickles a whole
    catalogue over to the store process (at 1M items: ~130 MiB of pickle and a copy there); the store
    process reads the texts itself, and only when some of the catalogue was ever encoded."""
    from engine.data.dataset import load_dataset
    from engine.encoder.catalogue import (
        MODEL_NAME,
        STATIC_NAME,
        cache_path,
        catalogue_encoder,
        choose_encoder,
        encoded_fraction,
        load_catalogue_vectors,
    )
    if n_items and not any(cache_path(store, dataset_id, n).exists() for n in (MODEL_NAME, STATIC_NAME)):
        return 0.0, None, choose_encoder(n_items)
    dataset = load_dataset(store, dataset_id, with_interactions=False)    # the catalogue only
    name = catalogue_encoder(store, dataset)
    fraction = encoded_fraction(store, dataset, name)
    return fraction, (load_catalogue_vectors(store, dataset, name) if fraction >= 1.0 else None), name


def run_search(dataset, query: str, k: int):
    """Worker thread in the app: search the attached vectors (numpy query encoder, no database)."""
    from engine.language.search import search_items
    return search_items(dataset, query, k)


class SearchBox(QWidget):
    item_activated = Signal(int)      # an item index the user double-clicked
    feedback_given = Signal(int, str)  # item index, "like" | "dislike" | "not_interested" (from the hits)
    undo_requested = Signal()
    results_shown = Signal(object)    # engine.language.search.SearchResult
    encoded = Signal(object)          # EncodeSummary after a finished encoding
    vectors_ready = Signal(bool)      # the dataset's semantic vectors are attached (False: not encoded yet)

    def __init__(self, k: int = 20, parent=None):
        super().__init__(parent)
        self.store = self.dataset = None
        self.k = k
        self.job = self._search_job = None
        self.line = QLineEdit()
        self.line.setPlaceholderText("Search by words, meaning, attributes or title, e.g. “full-bodied Portuguese red”"
                                     "  (Enter)")
        self.line.setClearButtonEnabled(True)
        self.encode_button = QPushButton("Encode catalogue")
        self.encode_button.setToolTip("Run every item's text through the language model (all-MiniLM-L6-v2) "
                                      "once (above 100,000 items the fast static minilm-static); later runs only encode new or changed items")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.understood = QLabel("")
        self.understood.setVisible(False)
        self.hits = SearchResults()
        self.hits.setVisible(False)
        self.hits.setMaximumHeight(200)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.line, 1)
        row.addWidget(self.encode_button)
        row.addWidget(self.progress)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.status)
        lay.addWidget(self.understood)
        lay.addWidget(self.hits)
        self.line.returnPressed.connect(self.search)
        self.encode_button.clicked.connect(self._encode_clicked)
        self.hits.item_activated.connect(self.item_activated.emit)
        self.hits.feedback_given.connect(self.feedback_given.emit)
        self.hits.undo_requested.connect(self.undo_requested.emit)

    def set_context(self, store, dataset) -> None:
        if dataset is self.dataset and store is self.store:
            return
        self.store, self.dataset = store, dataset
        self.hits.setRowCount(0)
        self.hits.setVisible(False)
        self.understood.setVisible(False)
        self.hits.set_genres_label(dataset.info.genres_label)
        self.status.setText("")
        self._load_vectors()

    def _load_vectors(self) -> None:
        dataset = self.dataset
        workers.run_async(workers.on_store(self.store), catalogue_vectors, dataset.info.id, dataset.n_items,
                          on_done=lambda r, d=dataset: self._vectors_loaded(d, *r), on_error=self.status.setText)

    def _vectors_loaded(self, dataset, fraction: float, vectors, encoder: str = "all-MiniLM-L6-v2") -> None:
        if dataset is not self.dataset:
            return
        done = vectors is not None
        if done:
            from engine.explore.similarity import set_semantic_vectors
            set_semantic_vectors(dataset, vectors, encoder=encoder)
            self.status.setText(f"Search by meaning with {encoder} vectors.")
        self.encode_button.setVisible(not done)
        self.vectors_ready.emit(done)
        if not done:
            self.status.setText(f"{fraction:.0%} of the catalogue is encoded: search goes by words, attributes and "
                                "titles; encode it to search by meaning too.")

    def search(self) -> None:
        text = self.line.text().strip()
        if not text or self.dataset is None:
            return
        self.status.setText("Searching…")
        self._search_job = workers.run_async(workers.here(), run_search, self.dataset, text, self.k,
                                             on_done=self._show, on_error=self.status.setText)

    def _show(self, result) -> None:
        self.hits.set_result(result)
        self.hits.setVisible(True)
        said = result.describe()
        self.understood.setText(f"Understood: <b>{said}</b>" if said else "")
        self.understood.setVisible(bool(said))
        from engine.explore.similarity import semantic_encoder_name
        how = (f"words + {semantic_encoder_name(self.dataset)} meaning" if result.dense else
               "words only: encode the catalogue to search by meaning too")
        self.status.setText(f"{len(result.hits)} items for “{result.query}” ({result.seconds * 1000:.0f} ms, {how})")
        self.results_shown.emit(result)

    # ---- encoding the catalogue (child process) ------------------------------------------------
    def _encode_clicked(self) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()
            return
        self.start_encoding()

    def start_encoding(self) -> ChildJob | None:
        if self.dataset is None:
            return None
        from engine.runs.child_tasks import encode_in_child
        self.job = ChildJob(encode_in_child, self.store.url, self.dataset.info.id, parent=self)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._encoded)
        self.job.failed.connect(lambda m: self.status.setText(f"Encoding failed: {m}"))
        self.job.cancelled.connect(lambda: self.status.setText("Encoding cancelled; finished items are kept."))
        self.job.done.connect(self._encoding_done)
        self.encode_button.setText("Cancel encoding")
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status.setText("Loading the language model…")
        return self.job.start()

    def _progress(self, u) -> None:
        self.progress.setRange(0, max(int(u.total), 1))
        self.progress.setValue(int(u.done))
        self.status.setText(f"Encoding the catalogue ({u.stage}): {u.done} of {u.total} items")

    def _encoded(self, summary) -> None:
        self.status.setText(f"Encoded {summary.encoded} items ({summary.reused} unchanged) with {summary.encoder} "
                            f"in {summary.seconds:.0f} s.")
        self.encoded.emit(summary)
        if self.dataset is not None:    # the vectors on disk changed: read them again
            self._load_vectors()

    def _encoding_done(self) -> None:
        self.encode_button.setText("Encode catalogue")
        self.progress.setVisible(False)

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.shutdown()
