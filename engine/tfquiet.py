"""Import TensorFlow without its C++ start-up log on stderr ("oneDNN custom operations are on",
"All log messages before absl::InitializeLog()", CPU-feature notices, CUDA factory registrations).

Those lines are written by C++ code straight to file descriptor 2, before TensorFlow's own
``TF_CPP_MIN_LOG_LEVEL`` is read, so the only way to hold them back is to point fd 2 at a temporary
file while TensorFlow loads, then pass on every line that is *not* such a log line (a Python
traceback, a real error). ``LLMREC_VERBOSE=1`` (``llmrec --verbose``) shows everything."""
from __future__ import annotations

import os
import re
import sys
import tempfile

_NATIVE_LOG = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]|WARNING: All log messages before "
                         r"absl::InitializeLog|To enable the following instructions:|E?\s*external/local_xla/)")


def verbose() -> bool:
    return os.environ.get("LLMREC_VERBOSE", "") not in ("", "0")


def is_native_log(line: str) -> bool:
    return bool(_NATIVE_LOG.match(line))


def quiet_import():
    """`import tensorflow` (once), its C++ log noise filtered unless verbose; returns the module."""
    if "tensorflow" in sys.modules or verbose():
        import tensorflow as tf
        return tf
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")   # after start-up, TensorFlow honours this itself
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            import tensorflow as tf
            tf.constant(0)              # the first op prints the CPU-feature notice: inside the filter
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = [ln for ln in tmp.read().decode("utf-8", "replace").splitlines() if not is_native_log(ln)]
            if kept:
                print("\n".join(kept), file=sys.stderr)
    return tf
