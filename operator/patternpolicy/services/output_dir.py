"""The output directory of `generate` and `export`: written aside, swapped in only when the run completes.

A run that fails half-way (model unreachable, cluster gone, a bug) leaves the previous `policies/`,
`tests/`, kustomization and report exactly as they were. Files of the directory that patternpolicy
did not write are never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from patternpolicy.adapters.workdirs import PREFIX, remove_stale

MARKER = ".patternpolicy-output"
OWNED = ("policies", "tests", "kustomization.yaml", "report.md", "report.json", MARKER)


def check_owned(out: Path) -> None:
    """Refuses a directory whose policies/, tests/ or kustomization.yaml patternpolicy did not write."""
    theirs = [name for name in ("policies", "tests", "kustomization.yaml") if (out / name).exists()]
    if theirs and not (out / MARKER).exists():
        raise FileExistsError(f"{out} has {', '.join(theirs)} not written by patternpolicy; choose another -o")


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Yields a fresh directory beside `out` to write into; on success its content replaces ours in `out`."""
    check_owned(out)
    root = _staging_root(out)
    remove_stale(root)  # what a killed run left there (its process id is in the name)
    work = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-{out.name}-", suffix=".partial", dir=root))
    try:
        yield work
        (work / MARKER).write_text("written by patternpolicy; policies/, tests/, kustomization.yaml and the "
                                   "report are replaced on each run\n")
        _swap(work, out, root)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _staging_root(out: Path) -> Path:
    """Beside the output; inside it when it is a mount point (a container volume: renames must not cross
    file systems) or its parent is not writable."""
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    if out.is_dir() and (os.path.ismount(out) or not os.access(parent, os.W_OK)):
        return out
    return parent


def _swap(new: Path, out: Path, root: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    old = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-{out.name}-", suffix=".previous", dir=root))
    try:
        for name in OWNED:
            if (out / name).exists():
                os.replace(out / name, old / name)
        for name in OWNED:
            if (new / name).exists():
                os.replace(new / name, out / name)
    finally:
        shutil.rmtree(old, ignore_errors=True)
