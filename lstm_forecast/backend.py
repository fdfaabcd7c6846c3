"""Import Keras (and TensorFlow under it) quietly, only when a command needs it."""

from __future__ import annotations

import os
import sys


def import_keras():
    """Return the keras module, hiding the C++ log lines TensorFlow prints while it loads.

    TensorFlow's native start-up messages (oneDNN, CUDA probing) are written to file descriptor 2
    before its log level applies, so stderr is pointed at /dev/null for the import alone. Python
    errors raised by the import are still shown: they are printed after stderr is restored.
    """
    if "keras" in sys.modules:
        return sys.modules["keras"]
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras
        import tensorflow  # noqa: F401  (loaded here so its start-up chatter is hidden)
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)
    return keras


def import_tensorflow():
    """Return the tensorflow module, loaded as quietly as import_keras() loads it."""
    import_keras()
    return sys.modules["tensorflow"]
