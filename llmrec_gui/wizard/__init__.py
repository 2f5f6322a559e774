"""The import wizard: files -> preview -> mapping -> validation (dry run) -> import. One page per file."""
