"""Item vectors at scale, as data structures (no runs, no database): the ANN candidate index (index.py),
int8 item vectors (quantize.py), rows read on demand from a model file (vector_rows.py). The operations on
runs that use them live in engine.runs (indexing.py, quantize.py, foldin.py)."""
