"""One line in the Train view, before training: which encoder the LSTM's item tower will read the item texts
with (the size rule search uses: the static minilm-static above 100,000 items) and how many of those
texts the shared catalogue cache already holds, so a long encoding is never a surprise."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel

from llmrec_gui import workers
from llmrec_gui.workers import alive

TF_MODELS = ("lstm", "lstm_ease")


def encoder_line(share) -> str:
    """The line's text for an engine.encoder.catalogue.CatalogueShare of the training's encoder."""
    todo = share.n_items - share.encoded
    head = f"Item texts: {share.encoder}; {share.encoded:,} of {share.n_items:,} already encoded"
    return head + (": nothing to encode." if not todo else f": the training first encodes {todo:,}.")


class EncoderLine(QLabel):
    """Given the app state and the training form; asks the store process (engine.encoder.catalogue.
    catalogue_state: cache files first, texts only when some exist) when the dataset, the model or the runs
    change (a training or an encoding wrote the cache)."""

    def __init__(self, state, form, parent=None):
        super().__init__(parent)
        self.state, self.form = state, form
        self._seen: tuple | None = None     # (dataset id, the caches' fingerprint, its share): read once per change
        self.setWordWrap(True)
        self.setToolTip("The LSTM reads each item's text through the pretrained encoder (all-MiniLM-L6-v2; "
                        "above 100,000 items the fast static minilm-static). Vectors are cached per text and "
                        "shared with search and the semantic space: only new or changed texts are encoded.")
        self.setVisible(False)
        state.dataset_changed.connect(lambda _info: self.refresh())
        state.runs_changed.connect(lambda _runs: self.refresh())
        form.model.currentIndexChanged.connect(lambda _i: self.refresh())

    def refresh(self) -> None:
        """Ask the store for the caches' fingerprint (cheap); the share itself only when it changed (at 1M
        items reading it means loading the catalogue's texts: not on every F5 or window activation)."""
        if not alive(self):             # a state signal after the window closed
            return
        info, store = self.state.dataset, self.state.store
        reads_text = (self.form.model.currentData() in TF_MODELS
                      and self.form.extra.get("text_encoder", "minilm") == "minilm")
        if info is None or store is None or not reads_text:
            self.setVisible(False)
            return
        from engine.encoder.catalogue import cache_stamp
        workers.run_async(workers.on_store(store), cache_stamp, info.id,
                          on_done=lambda stamp, i=info: self._stamped(i, stamp), on_error=lambda _m: None, owner=self)

    def _stamped(self, info, stamp) -> None:
        if self.state.store is None:
            return
        if self._seen is not None and self._seen[:2] == (info.id, stamp):
            self._show(info, stamp, self._seen[2])
            return
        from engine.encoder.catalogue import catalogue_state
        workers.run_async(workers.on_store(self.state.store), catalogue_state, info.id, info.n_items, encoder="auto",
                          with_vectors=False, on_done=lambda share, i=info: self._show(i, stamp, share),
                          on_error=lambda _m: self.setVisible(False), owner=self)

    def _show(self, info, stamp, share) -> None:
        self._seen = (info.id, stamp, share)
        if self.state.dataset is not None and self.state.dataset.id == info.id:
            self.setText(encoder_line(share))
            self.setVisible(True)
