"""Tidying a database after a crash or kill -9: what `llmrec doctor` does, and what the app does
each time it opens a database. Never touches what a running job still owns (see engine.runs.saving
clean_leftovers and engine.ingest.importer clean_abandoned_imports)."""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.ingest.importer import ImportLeftovers, clean_abandoned_imports
from engine.runs.saving import Leftovers, clean_leftovers


@dataclass(frozen=True)
class TidyReport:
    removed_run_folders: list = field(default_factory=list)
    removed_imports: list = field(default_factory=list)
    integrity: str = "ok"
    kept_run_folders: list = field(default_factory=list)   # (name, why): not provably this database's
    kept_imports: list = field(default_factory=list)       # (name, why): another machine's, still running?


def tidy(store, *, check_integrity: bool = False) -> TidyReport:
    """Remove leftovers of killed saves and imports; optionally run SQLite's integrity check."""
    integrity = "not checked"
    read_only = store.read_only
    if check_integrity and store.is_sqlite:
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql("PRAGMA integrity_check").fetchall()
        integrity = "; ".join(str(r[0]) for r in rows[:5])
    if read_only:   # nothing can be removed: only the check
        runs, imports = Leftovers([], []), ImportLeftovers([], [])
    else:
        runs = clean_leftovers(store)
        imports = clean_abandoned_imports(store)
    return TidyReport(removed_run_folders=runs.removed, removed_imports=imports.removed, integrity=integrity,
                      kept_run_folders=runs.kept, kept_imports=imports.kept)
