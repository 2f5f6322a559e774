"""Import speed into PostgreSQL (COPY into a staging table, then one INSERT … SELECT DISTINCT ON)
against SQLite (executemany into a staging table, then one upsert), on the same file in the same run.

Each import is `engine.ingest.import_files` in this process into a fresh database (a new SQLite file; a new
PostgreSQL database on the server). The file: a generated MovieLens-like ratings CSV (see import_speed.py)
of --rows rows, and MovieTweetings-100k when ../shared/data has it. Prints rows/s and PostgreSQL/SQLite.

    python benchmarks/import_postgres.py --pg postgresql+psycopg://user@127.0.0.1:5432/postgres [--rows 1000000]
    (default server: $LLMREC_TEST_PG_URL, as .ci/run's throw-away server sets it)
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.import_speed import generate  # noqa: E402
from engine.ingest import import_files  # noqa: E402
from engine.store import open_store  # noqa: E402


def timed_import(url: str, files: Path, path: Path) -> tuple[float, int]:
    store = open_store(url, artifacts=files)
    try:
        t0 = time.perf_counter()
        s = import_files(store, [path], name="bench")
        return time.perf_counter() - t0, s.rows_read
    finally:
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", default=os.environ.get("LLMREC_TEST_PG_URL"), help="a PostgreSQL server URL")
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    if not args.pg:
        sys.exit("give --pg URL (or set LLMREC_TEST_PG_URL)")
    server = sa.engine.make_url(args.pg)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = []
        gen = tmp / "ratings.csv"
        generate(gen, args.rows)
        inputs.append((f"generated {args.rows:,} rows", gen))
        mt = ROOT.parent / "shared" / "data" / "movietweetings-100k"
        if mt.exists():
            inputs.append(("movietweetings-100k", mt / next(p.name for p in sorted(mt.iterdir())
                                                             if p.name.startswith("ratings"))))
        print(f"{'file':28s} {'SQLite rows/s':>14s} {'PostgreSQL rows/s':>18s} {'PG/SQLite':>10s}")
        for label, path in inputs:
            sq_s, rows = timed_import(str(tmp / f"{uuid.uuid4().hex}.db"), tmp / "f", path)
            name = f"llmrec_bench_{uuid.uuid4().hex[:10]}"
            with admin.connect() as c:
                c.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                pg_s, _ = timed_import(server.set(database=name).render_as_string(hide_password=False),
                                       tmp / "f", path)
            finally:
                with admin.connect() as c:
                    c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            print(f"{label:28s} {rows / sq_s:14,.0f} {rows / pg_s:18,.0f} {sq_s / pg_s:10.2f}")
    admin.dispose()


if __name__ == "__main__":
    main()
