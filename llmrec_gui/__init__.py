"""llmrec desktop app (PySide6). The engine does the work; this package only shows it."""
