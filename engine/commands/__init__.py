"""Subcommand groups of the `llmrec` CLI, one module per group."""
