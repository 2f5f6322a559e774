"""AppState: the current database, dataset, run and user, shared by every panel.
Panels read it and connect to its signals; they never reach into each other. Signals carry DTOs."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal

from llmrec_gui import workers


class AppState(QObject):
    store_changed = Signal(object)      # engine.store.process.StoreProcess (or a Store in tests)
    datasets_changed = Signal(list)     # list[DatasetInfo]
    dataset_changed = Signal(object)    # DatasetInfo | None
    runs_changed = Signal(list)         # list[RunInfo] of the current dataset
    run_changed = Signal(object)        # RunInfo | None
    run_ready = Signal(object)          # RunInfo: a new run of the dataset on screen, offered, not switched to
    index_built = Signal(int)           # a run's ANN index was (re)built: its id
    user_changed = Signal(int)          # user index in the current dataset
    device_changed = Signal(str)        # compute device shown in the status bar
    message = Signal(str)               # transient status-bar text
    error = Signal(str)                 # a job failed: shown as a message box / status
    store_gone = Signal(str)            # the store process stopped (why): every store call fails until reopened
    _gone_relay = Signal(object, str)   # (store, why) from the store handle's reader thread, queued to this one

    def __init__(self, settings=None, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.store = None
        self.store_lost: str | None = None      # why the current store's process stopped (None: it runs)
        self._gone_relay.connect(self._store_gone, Qt.ConnectionType.QueuedConnection)
        self.datasets: list = []
        self.dataset = None
        self.runs: list = []
        self.run = None
        self.user: int | None = None
        self.prefer_run: int | None = None      # a run asked for on the command line (used once)
        self.prefer_user: str | None = None     # an external user id asked for (used once)
        self.fitting_baseline: int | None = None  # a dataset whose EASE baseline is being fitted

    # ---- store -----------------------------------------------------------------------
    def set_store(self, store) -> None:
        old, self.store = self.store, store
        self.store_lost = None
        if old is not None and old is not store and hasattr(old, "close"):
            _close_later(old)
        if self.settings is not None:
            self.settings.setValue("db", store.url)
        if hasattr(store, "on_gone"):        # a StoreProcess: hear at once when its process stops
            store.on_gone(lambda why, s=store: self._relay_gone(s, why))
        self.store_changed.emit(store)

    def _relay_gone(self, store, why: str) -> None:   # the store handle's reader thread: no widgets here
        try:
            self._gone_relay.emit(store, why)
        except RuntimeError:                 # this object is already deleted (the app is closing)
            pass

    def _store_gone(self, store, why: str) -> None:
        if store is not self.store:          # a store the app no longer shows
            return
        self.store_lost = why
        self.store_gone.emit(why)

    # ---- datasets --------------------------------------------------------------------
    def set_datasets(self, datasets: list, select: int | None = None) -> None:
        self.datasets = list(datasets)
        self.datasets_changed.emit(self.datasets)
        want = select
        if want is None and self.dataset is not None:
            want = self.dataset.id
        if want is None and self.settings is not None:
            want = _int(self.settings.value("dataset"))
        chosen = next((d for d in self.datasets if d.id == want), None) or (self.datasets[0] if self.datasets else None)
        self.select_dataset(chosen, force=True)

    def refresh_datasets(self, select: int | None = None) -> None:
        """Re-read the dataset list (worker) and keep or change the selection."""
        if self.store is None:
            return
        from engine.runs import queries
        workers.run_async(workers.on_store(self.store), queries.list_datasets,
                          on_done=lambda ds: self.set_datasets(ds, select), on_error=self.error.emit)

    def select_dataset(self, info, force: bool = False) -> None:
        same = info is not None and self.dataset is not None and info.id == self.dataset.id
        if same and not force:
            return
        self.dataset = info
        if not same:    # a re-read of the same dataset (F5) keeps its run and user: the runs re-read decides
            self.run = None
            self.user = None
        if self.settings is not None and info is not None:
            self.settings.setValue("dataset", info.id)
        self.dataset_changed.emit(info)
        self.refresh_runs()

    # ---- runs ------------------------------------------------------------------------
    def refresh_runs(self, select: int | None = None) -> None:
        if self.store is None or self.dataset is None:
            self.runs = []
            self.runs_changed.emit([])
            self.run_changed.emit(None)
            return
        ds_id = self.dataset.id
        from engine.runs import queries
        workers.run_async(workers.on_store(self.store), queries.list_runs, ds_id,
                          on_done=lambda runs: self._set_runs(ds_id, runs, select), on_error=self.error.emit)

    def _set_runs(self, ds_id: int, runs: list, select: int | None) -> None:
        if self.dataset is None or self.dataset.id != ds_id:
            return  # the selection moved on meanwhile
        self.runs = runs
        self.runs_changed.emit(runs)
        want = select
        if want is None and self.prefer_run is not None and any(r.id == self.prefer_run for r in runs):
            want, self.prefer_run = self.prefer_run, None
        if want is None and self.run is not None:
            want = self.run.id
        if want is None and self.settings is not None:
            want = _int(self.settings.value("run"))
        chosen = next((r for r in runs if r.id == want), None) or (runs[-1] if runs else None)
        self.select_run(chosen, force=True)

    def announce_run(self, run_id: int) -> None:
        """A training or fit finished: re-read the runs and keep the run the user chose; the new one is
        offered (run_ready: "a new run is ready: switch?"), and shown at once only when none was on screen."""
        if self.store is None or self.dataset is None:
            return
        if self.run is None:
            self.refresh_runs(select=run_id)
            return
        ds_id = self.dataset.id
        from engine.runs import queries
        workers.run_async(workers.on_store(self.store), queries.list_runs, ds_id,
                          on_done=lambda runs: self._announced(ds_id, runs, run_id), on_error=self.error.emit)

    def _announced(self, ds_id: int, runs: list, run_id: int) -> None:
        if self.dataset is None or self.dataset.id != ds_id:
            return
        self.runs = runs
        self.runs_changed.emit(runs)
        new = next((r for r in runs if r.id == run_id), None)
        if self.run is None or not any(r.id == self.run.id for r in runs):
            self.select_run(new, force=True)
        elif new is not None and new.id != self.run.id:
            self.run_ready.emit(new)

    def select_run(self, info, force: bool = False) -> None:
        if not force and info is not None and self.run is not None and info.id == self.run.id:
            return
        self.run = info
        if self.settings is not None and info is not None:
            self.settings.setValue("run", info.id)
        self.run_changed.emit(info)

    # ---- user ------------------------------------------------------------------------
    def saved_user(self) -> int | None:
        return _int(self.settings.value("user")) if self.settings is not None else None

    def select_user(self, user: int) -> None:
        if user == self.user:
            return
        self.user = int(user)
        if self.settings is not None:
            self.settings.setValue("user", self.user)
        self.user_changed.emit(self.user)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _close_later(store) -> None:
    """Close a store the app no longer shows, off the GUI thread (its running calls finish first)."""
    import threading
    threading.Thread(target=store.close, name="close-store", daemon=True).start()


def close_store(state: "AppState") -> None:
    """At exit: stop the store process (waits for its running calls)."""
    if state.store is not None and hasattr(state.store, "close"):
        state.store.close()
