"""`python -m llmrec_gui`."""
import sys

if __name__ == "__main__":
    from .app import main

    sys.exit(main())
