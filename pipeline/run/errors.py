"""RunError: why a run stopped, in one line for the user; the previous outputs are kept.

Raised for what the user can fix (a missing input, an empty input folder,
another run holding the output folder, a full disk, a read-only output
folder, an unreachable Dask scheduler, a dependency whose data changed);
`python -m pipeline run` prints `error: <message>` and exits 2, never a
traceback. Bad *articles* are not RunErrors: they are error rows.
"""
from __future__ import annotations

import errno


class RunError(Exception):
    """A run that stopped (or never started) with a message for the user; nothing was replaced."""


# errno values that mean "this folder cannot be written" and what to tell the user
_NO_WRITE = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
             errno.EROFS: "read-only file system"}
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def write_error(e: OSError, out_dir) -> RunError:
    """The RunError for an OSError met while writing the outputs in out_dir."""
    if e.errno in _NO_SPACE:
        return RunError(f"no space left on the device writing {out_dir}; the previous outputs are kept "
                        f"(free some space and run again)")
    if e.errno in _NO_WRITE:
        return RunError(f"cannot write to {out_dir} ({_NO_WRITE[e.errno]}); the previous outputs are kept")
    where = f" ({e.filename})" if e.filename else ""
    return RunError(f"cannot write to {out_dir}: {e.strerror or e}{where}; the previous outputs are kept")
