"""The `llmrec` command: main.py parses and runs one command; each other module registers one group of
subcommands."""
