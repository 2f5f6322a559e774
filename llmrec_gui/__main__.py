"""`python -m llmrec_gui`."""
import sys

from .app import main

sys.exit(main())
