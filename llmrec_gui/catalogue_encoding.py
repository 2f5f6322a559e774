"""The app's catalogue encoding: one child process at a time (engine.runs.child_tasks.encode_in_child, at
the lowest priority, TensorFlow kept out of the app), started by Explore's Encode button or in the
background after an import. Progress and the end are signals carrying the dataset's id, so the view
showing that dataset shows them (and offers Cancel) wherever the job was started from; a request for
another dataset waits for the running one instead of cancelling it."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from llmrec_gui.child_jobs import ChildJob


class CatalogueEncoding(QObject):
    started = Signal(int)              # dataset id: its child is starting (loading the encoder)
    progress = Signal(int, object)     # dataset id, engine.encoder.model.EncodeProgress
    ended = Signal(int, str, object)   # dataset id, "done" | "cancelled" | "failed", EncodeSummary | message | None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.job: ChildJob | None = None
        self.dataset_id: int | None = None
        self._waiting: list[tuple[str, int]] = []     # (store URL, dataset id), in request order

    def running_for(self, dataset_id: int | None) -> bool:
        return self.running and self.dataset_id == dataset_id

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def waiting_for(self, dataset_id: int) -> bool:
        return any(d == dataset_id for _url, d in self._waiting)

    def start(self, store_url: str, dataset_id: int) -> ChildJob | None:
        """Encode the dataset's catalogue (only texts with no cached vector yet); returns its job, or None
        while another dataset's encoding runs (this one starts when that one ends)."""
        dataset_id = int(dataset_id)
        if self.running_for(dataset_id):
            return self.job
        if self.running:
            if not self.waiting_for(dataset_id):
                self._waiting.append((store_url, dataset_id))
            return None
        from engine.runs.child_tasks import encode_in_child
        self.dataset_id = dataset_id
        job = self.job = ChildJob(encode_in_child, store_url, dataset_id, parent=self)
        job.progress.connect(lambda u, d=dataset_id: self.progress.emit(d, u))
        job.finished.connect(lambda summary, d=dataset_id: self.ended.emit(d, "done", summary))
        job.cancelled.connect(lambda d=dataset_id: self.ended.emit(d, "cancelled", None))
        job.failed.connect(lambda message, d=dataset_id: self.ended.emit(d, "failed", message))
        job.done.connect(self._next)
        self.started.emit(dataset_id)
        return job.start()

    def cancel(self, dataset_id: int | None = None) -> None:
        """Cancel the running encoding (if it is `dataset_id`'s, when given) and drop the waiting ones of that
        dataset; finished items are kept in the cache."""
        if dataset_id is not None:
            self._waiting = [w for w in self._waiting if w[1] != dataset_id]
        if self.running and (dataset_id is None or self.dataset_id == dataset_id):
            self.job.cancel()

    def _next(self) -> None:
        if self._waiting and not self.running:
            self.start(*self._waiting.pop(0))

    def shutdown(self) -> None:
        """App exit: stop the child now, forget the waiting ones."""
        self._waiting.clear()
        if self.job is not None:
            self.job.shutdown()
