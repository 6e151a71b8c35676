"""Temporary folders for engine runs that a killed process does not leave behind for ever.

Each folder's name carries the creating process id; at start-up the operator
removes the folders of processes that no longer run (a SIGKILL skips every
`finally`). Folders of live processes, e.g. a second operator or a CLI run on
the same machine, are left alone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "patternpolicy-"
_OWNED = re.compile(rf"^{PREFIX}(?P<pid>\d+)-")


@contextlib.contextmanager
def workdir(purpose: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-{purpose}-") as tmp:
        yield Path(tmp)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_stale(root: Path | None = None) -> list[Path]:
    """Deletes the work folders of dead processes; returns what was removed."""
    removed = []
    base = root or Path(tempfile.gettempdir())
    for path in base.glob(f"{PREFIX}*"):
        match = _OWNED.match(path.name)
        if match is None or not path.is_dir() or _alive(int(match["pid"])):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
