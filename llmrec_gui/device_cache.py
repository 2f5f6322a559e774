"""The TensorFlow device probe's answer, cached in the settings per TensorFlow version: probing
imports TensorFlow in a child process (minutes on a busy machine), the answer only changes with
TensorFlow (or the hardware: "Detect devices" probes again). No Qt import: settings is duck-typed."""
from __future__ import annotations

import json


def tensorflow_version() -> str:
    """The installed TensorFlow's version, read from its metadata (TensorFlow is not imported)."""
    from importlib.metadata import PackageNotFoundError, version
    for dist in ("tensorflow", "tensorflow-cpu", "tf-nightly"):
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return "none"


def _key() -> str:
    return f"devices/tensorflow-{tensorflow_version()}"


def load_devices(settings) -> list[tuple[str, str]] | None:
    if settings is None:
        return None
    raw = settings.value(_key())
    try:
        devices = [tuple(d) for d in json.loads(raw)] if raw else None
    except (TypeError, ValueError):
        return None
    return devices or None


def save_devices(settings, devices) -> None:
    if settings is not None and devices:
        settings.setValue(_key(), json.dumps([list(d) for d in devices]))
