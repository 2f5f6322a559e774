"""`python -m llmrec_gui`."""
import sys

if __name__ == "__main__":
    from llmrec_gui.app import main

    sys.exit(main())
