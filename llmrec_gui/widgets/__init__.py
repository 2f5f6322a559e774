"""One widget per file; each is given AppState (or plain data) and never reaches into siblings."""
