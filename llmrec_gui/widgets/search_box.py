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
from llmrec_gui.catalogue_encoding import CatalogueEncoding
from llmrec_gui.child_jobs import ChildJob
from llmrec_gui.widgets.search_results import SearchResults


def catalogue_vectors(store, dataset_id: int, n_items: int):
    """Store-process job: (share of the catalogue encoded, its vectors when all of it is, else None,
    the encoder's cache name), from the one cache training, search and the semantic space share
    (engine.encoder.catalogue.catalogue_state: by the dataset's id; nothing read when nothing was ever encoded)."""
    from engine.encoder.catalogue import catalogue_state
    share = catalogue_state(store, dataset_id, n_items)
    return share.fraction, share.vectors, share.encoder


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
        self._search_job = None
        self._encoding: CatalogueEncoding | None = None   # the app's (attach_encoding), else the box's own
        self._stamp = None           # the caches' fingerprint when the share was last read (recheck)
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
        self._encoding_shown()
        self._load_vectors()

    def _load_vectors(self) -> None:
        """Read the encoded share (and the vectors, when complete) in the store process: first the caches'
        fingerprint, so that `recheck` reads them again only when something wrote them."""
        from engine.encoder.catalogue import cache_stamp
        dataset, store = self.dataset, self.store

        def stamped(stamp) -> None:
            if dataset is self.dataset:
                self._stamp = stamp
                workers.run_async(workers.on_store(store), catalogue_vectors, dataset.info.id, dataset.n_items,
                                  on_done=lambda r: self._vectors_loaded(dataset, *r), on_error=self.status.setText,
                                  owner=self)
        workers.run_async(workers.on_store(store), cache_stamp, dataset.info.id, on_done=stamped,
                          on_error=self.status.setText, owner=self)

    def recheck(self) -> None:
        """Read the encoded share again if the caches changed since (a training encoded the catalogue, an
        encoding ended, the CLI encoded it): called when a run finishes and when the view is shown. Costs
        one small store call unless they changed; nothing once the vectors are attached."""
        from engine.encoder.catalogue import cache_stamp
        from engine.explore.similarity import has_semantic
        dataset = self.dataset
        if not workers.alive(self) or dataset is None or self.store is None or has_semantic(dataset):
            return
        workers.run_async(workers.on_store(self.store), cache_stamp, dataset.info.id,
                          on_done=lambda stamp: dataset is self.dataset and stamp != self._stamp
                          and self._load_vectors(), on_error=lambda _m: None, owner=self)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.recheck()

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
        if not done and not self._encoding_shown():
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
    @property
    def encoding(self) -> CatalogueEncoding:
        """The app's one catalogue encoding (the controller attaches it: an import's background encoding
        shows here too); a box on its own makes its own."""
        if self._encoding is None:
            self.attach_encoding(CatalogueEncoding(parent=self))
        return self._encoding

    def attach_encoding(self, encoding: CatalogueEncoding) -> None:
        self._encoding = encoding
        encoding.started.connect(lambda d: self._encoding_shown(d))
        encoding.progress.connect(self._progress)
        encoding.ended.connect(self._encoding_ended)

    @property
    def job(self) -> ChildJob | None:
        return None if self._encoding is None else self._encoding.job

    def _mine(self, dataset_id: int) -> bool:
        return self.dataset is not None and self.dataset.info.id == dataset_id

    def _encode_clicked(self) -> None:
        if self.dataset is not None and self.encoding.running_for(self.dataset.info.id):
            self.encoding.cancel(self.dataset.info.id)
            return
        self.start_encoding()

    def start_encoding(self) -> ChildJob | None:
        if self.dataset is None:
            return None
        job = self.encoding.start(self.store.url, self.dataset.info.id)
        if job is None:
            self.status.setText("Another catalogue is being encoded; this one follows.")
        return job

    def _encoding_shown(self, dataset_id: int | None = None) -> bool:
        """Show whether this box's dataset is being encoded (Cancel, progress); True when it is."""
        if self.dataset is None or (dataset_id is not None and not self._mine(dataset_id)):
            return False
        running = self._encoding is not None and self._encoding.running_for(self.dataset.info.id)
        self.encode_button.setText("Cancel encoding" if running else "Encode catalogue")
        if running:
            self.encode_button.setVisible(True)
            if self.progress.isHidden():        # just started: busy until the first count comes
                self.progress.setRange(0, 0)
                self.status.setText("Loading the language model…")
        self.progress.setVisible(running)
        return running

    def _progress(self, dataset_id: int, u) -> None:
        if not self._mine(dataset_id):
            return
        self._encoding_shown()
        self.progress.setRange(0, max(int(u.total), 1))
        self.progress.setValue(int(u.done))
        self.status.setText(f"Encoding the catalogue ({u.stage}): {u.done:,} of {u.total:,} items")

    def _encoding_ended(self, dataset_id: int, how: str, payload) -> None:
        if not self._mine(dataset_id):
            return
        self.encode_button.setText("Encode catalogue")
        self.progress.setVisible(False)
        if how == "failed":
            self.status.setText(f"Encoding failed: {payload}")
            return
        if how == "done":
            self.status.setText(f"Encoded {payload.encoded} items ({payload.reused} unchanged) with {payload.encoder} "
                                f"in {payload.seconds:.0f} s.")
            self.encoded.emit(payload)
        self._load_vectors()        # the vectors on disk changed (a cancelled run keeps what it finished)

    def shutdown(self) -> None:
        if self._encoding is not None:
            self._encoding.shutdown()
