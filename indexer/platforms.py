"""What vnsearch needs of the operating system: Linux has it all, macOS most (README,
"Platforms"); where a call is missing (Windows), a clear message instead of a traceback."""

from __future__ import annotations

import os
import signal
import sys
from types import ModuleType

# The POSIX modules and calls vnsearch's commands use: resource (the server's file limit),
# fcntl (Whoosh's lock), signals (graceful stops), os.fork (worker processes), the C library.
POSIX_MODULES = {"resource", "fcntl", "termios", "pty", "pwd", "grp"}
_OBJECTS: dict[str, ModuleType] = {"os": os, "signal": signal}


def missing_call(error: BaseException) -> str | None:
    """The message for an ImportError or AttributeError that a missing OS call raised, or None
    when ``error`` is something else (a bug, to be shown as such)."""
    if isinstance(error, ImportError) and error.name in POSIX_MODULES:
        what = f"the {error.name} module"
    elif isinstance(error, AttributeError) and any(error.obj is mod for mod in _OBJECTS.values()):
        module = next(name for name, mod in _OBJECTS.items() if error.obj is mod)
        what = f"{module}.{error.name}"
    else:
        return None
    return (
        f"This command needs {what}, which this platform ({sys.platform}) lacks: "
        "vnsearch runs on Linux, and on macOS (see the README's Platforms)"
    )
