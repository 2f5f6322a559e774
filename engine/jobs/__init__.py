"""Running work: cancel tokens and progress (cancel.py), and the one executor interface that runs a function
here, in the store process or in a child process (executor.py)."""
