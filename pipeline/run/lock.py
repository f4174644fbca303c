"""One run at a time per output folder: `<out>/.lock`, locked for the whole run.

Two runs writing one `--out` (a cron job overlapping a manual run) would
each replace the other's CSVs and clean texts, and one would sweep away the
other's temporary files. The second run therefore stops at once with
`another run is writing <out> (pid N); …`. The lock is a POSIX record lock
(`fcntl`) on the empty file `.lock`: the system releases it when the process
ends however it ends (kill -9 included), so a lock file left behind never
blocks a later run, and the system itself says which process holds it
(F_GETLK), so the file is never written: an unchanged re-run changes
nothing in the folder.

An output folder that cannot be written (`read_only`) is only read-locked:
the run may then only find its outputs unchanged; it writes nothing.
"""
from __future__ import annotations

import errno
import os
import struct
import sys
from pathlib import Path

from .errors import RunError

LOCK_NAME = ".lock"
# struct flock of Linux (l_type, l_whence, l_start, l_len, l_pid), to ask who holds the lock
_FLOCK = "hhqqi"


class OutputLock:
    """`with OutputLock(out) as lock:` holds the lock on out (lock.read_only: out cannot be written)."""

    def __init__(self, out_dir: Path):
        self.path = Path(out_dir) / LOCK_NAME
        self.fd: int | None = None
        self.read_only = False

    def __enter__(self) -> "OutputLock":
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            self.read_only = True
            try:    # a run that could write would hold the file: see whether one does
                self.fd = os.open(self.path, os.O_RDONLY)
            except OSError:
                return self
        try:
            import fcntl
        except ImportError:        # no fcntl (Windows): no lock
            return self
        try:
            fcntl.lockf(self.fd, (fcntl.LOCK_SH if self.read_only else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            holder = self._holder(fcntl)
            os.close(self.fd)
            self.fd = None
            raise RunError(f"another run is writing {self.path.parent} ({holder}); wait for it to finish, or "
                           f"use another --out") from None
        return self

    def _holder(self, fcntl) -> str:
        """`pid N` of the process holding the lock, as the system knows it (Linux)."""
        if not sys.platform.startswith("linux"):
            return "another process"
        try:
            query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
            pid = struct.unpack(_FLOCK, fcntl.fcntl(self.fd, fcntl.F_GETLK, query))[4]
        except (OSError, struct.error):
            return "another process"
        return f"pid {pid}" if pid > 0 else "another process"

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)          # releases the lock
            self.fd = None
