"""llmrec desktop app (PySide6). The engine does the work; this package only shows it."""
from ._compat import make_none_immortal

make_none_immortal()
