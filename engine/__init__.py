"""llmrec engine: storage, import, models, evaluation, re-ranking. Pure Python; never imports Qt."""
from engine.errors import CancelledError, EngineError, InputError
from engine.jobs.cancel import CancelToken
from engine.store import Store, open_store

__version__ = "0.1.0"
__all__ = ["CancelToken", "CancelledError", "EngineError", "InputError", "Store", "open_store", "__version__"]
