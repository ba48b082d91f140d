"""Whether a process is still running, by its id (the local services' pid files, the app's
per-process synthesis folders)."""
from __future__ import annotations

import os


def running(pid: int | None) -> bool:
    """True while process `pid` exists, another user's included (which we may not signal)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)  # signal 0: no signal sent, only whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
