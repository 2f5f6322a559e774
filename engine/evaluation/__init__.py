"""The evaluation protocol (protocol.py) and its metrics (metrics.py), as docs/evaluation.md defines them."""
