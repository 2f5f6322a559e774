"""Trained runs: training (training.py, distributed.py), saving and loading model folders, the baselines'
fit, tidying what killed jobs left (maintenance.py)."""
