"""Recommenders behind one contract (base.py, registry.py): the numpy baselines, the LSTM two-tower
(lstm/), the LSTM + EASE blend (hybrid.py), and choosing settings on validation (selection.py)."""
