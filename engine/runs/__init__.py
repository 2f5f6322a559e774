"""Trained runs: training (training.py, distributed.py), the baselines (baselines.py), saving a run's
folder (saving.py), loading it (loaded.py, lean.py), operations on a run (indexing.py, quantize.py,
foldin.py), the app's reads and child-process entries (queries.py, child_tasks.py, first_launch.py),
tidying what killed jobs left (maintenance.py)."""
