"""Serving item vectors at scale: the ANN candidate index (index.py), int8 item vectors (quantize.py), new
items folded into a run (foldin.py)."""
