"""What Qt needs from the system before it starts (the xcb plugin's libraries on Linux, checked first
because Qt aborts the process when they are missing) and the filter of its harmless notices."""
from __future__ import annotations

import os
import sys

# What Qt's xcb platform plugin loads on Linux (PySide6 wheels bring Qt, not these): soname -> Debian package.
QT_XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0", "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-util.so.1": "libxcb-util1",
    "libX11-xcb.so.1": "libx11-xcb1", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0", "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1", "libdbus-1.so.3": "libdbus-1-3",
}


def apt_line(packages) -> str:
    return "sudo apt-get install " + " ".join(packages)


def qt_help(reason: str, packages=None) -> str:
    packages = list(packages or QT_XCB_LIBRARIES.values())
    return (f"llmrec-gui: {reason}.\nOn Debian/Ubuntu install the system libraries Qt needs:\n  {apt_line(packages)}\n"
            "(or run without a display: QT_QPA_PLATFORM=offscreen llmrec-gui --screenshot out.png)")


def missing_platform_libraries(load=None) -> list[str]:
    """Debian packages of the libraries Qt's xcb plugin needs that cannot be loaded here. Checked before
    Qt starts: when its platform plugin cannot load, Qt aborts the process (nothing to catch) with a
    message naming one library of several."""
    if not sys.platform.startswith("linux"):
        return []
    chosen = os.environ.get("QT_QPA_PLATFORM", "")
    if chosen.split(":")[0] not in ("xcb", "") or (not chosen and os.environ.get("WAYLAND_DISPLAY")):
        return []
    if load is None:
        import ctypes
        load = ctypes.CDLL
    missing = []
    for soname, package in QT_XCB_LIBRARIES.items():
        try:
            load(soname)
        except OSError:
            missing.append(package)
    return missing


IGNORED_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",  # offscreen platform plugin
                       "This plugin does not support raise()")


def install_message_filter() -> None:
    """Silence the offscreen platform plugin's 'propagateSizeHints' notice (harmless; it floods
    the screenshot and test logs); every other Qt message still goes to stderr."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(mode, context, message):
        if message in IGNORED_QT_MESSAGES:
            return
        sys.stderr.write(message + "\n")

    qInstallMessageHandler(handler)
