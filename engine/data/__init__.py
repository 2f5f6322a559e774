"""Datasets in memory: loading (dataset.py), the holdout split (split.py), counts streamed in blocks
(aggregates.py, stats.py), the demo generators (demo.py, demo_stream.py), compact row stores
(packed_strings.py, grouped_rows.py)."""
