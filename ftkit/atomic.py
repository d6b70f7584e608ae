"""Atomic writes: a temporary file beside the target, moved into place when complete.

Every ftkit command that writes a file (``write_jobs``, ``ftkit report``, ``ftkit
convert``, the export's compaction) goes through this module, so that

- the temporary name is unpredictable and created exclusively (``O_EXCL``, no link
  followed: :func:`tempfile.mkstemp`), so a name planted in advance (a symlink to
  another file) cannot be written through, and two writers of one path never share a
  temporary file;
- a failure, ``KeyboardInterrupt`` or a SIGTERM turned into an exception (the command
  line does that) removes the temporary file and leaves the target as it was;
- a temporary file left by a run that was killed outright (SIGKILL, power loss) is
  recognised by its name, ``.<target>.ftkit-<pid>-<random>.tmp``, and removed by the
  next write of the same target, once its process is gone.

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_write(folder / "out.txt") as f:
...     _ = f.write(b"complete\\n")
>>> sorted(p.name for p in folder.iterdir()), (folder / "out.txt").read_bytes()
(['out.txt'], b'complete\\n')
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

try:  # POSIX only: a lock guards a file or a dataset against two writers at once.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
__all__ = [
    "atomic_write",
    "atomic_directory",
    "make_temp_dir",
    "unwritable_parent",
    "remove_stale_temps",
    "temp_prefix",
    "fsync_dir",
    "is_no_space",
    "try_lock",
    "lock_in",
    "directory_lock",
]

#: The marker in every temporary name, so that stale ones can be told from others' files.
_MARK = ".ftkit-"
_SUFFIX = ".tmp"
#: Bytes of the target's name kept, leaving room for the marker, pid and random part
#: within a 255-byte file name.
_MAX_STEM = 180


def _umask() -> int:
    """The process's umask, read without changing it where the platform allows."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (briefly visible to other threads)
    os.umask(mask)
    return mask


def temp_prefix(target: Path) -> str:
    """The name every temporary file of ``target`` starts with (before the pid).

    Examples
    --------
    >>> temp_prefix(Path("/data/report.html"))
    '.report.html.ftkit-'
    """
    stem = os.fsencode(target.name)
    if len(stem) > _MAX_STEM:  # file names are limited in bytes: cut, on a whole character
        stem = stem[:_MAX_STEM].decode("utf-8", "ignore").encode()
    return f".{os.fsdecode(stem)}{_MARK}"


def _mode_for(target: Path) -> int:
    """The mode of the file being replaced, else what a plain ``open`` would give."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _process_gone(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False


def remove_stale_temps(target: str | os.PathLike[str]) -> list[Path]:
    """Remove what killed runs left beside ``target``; return the paths removed.

    A leftover is removed only if all of these hold: its name is
    ``.<target name>.ftkit-<pid>-<random>.tmp``, the process ``<pid>`` no longer
    exists, it belongs to this user, and it is a regular file (or a directory, for
    ``ftkit convert``) rather than a link. Anything else is left alone.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> dead = folder / ".out.txt.ftkit-999999999-x1y2z3.tmp"
    >>> _ = dead.write_bytes(b"partial")
    >>> [p.name for p in remove_stale_temps(folder / "out.txt")]
    ['.out.txt.ftkit-999999999-x1y2z3.tmp']
    """
    target = Path(target)
    prefix = temp_prefix(target)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(_SUFFIX)):
            continue
        pid_text = name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or not _process_gone(int(pid_text)):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if uid is not None and info.st_uid != uid:
            continue
        path = Path(entry.path)
        with contextlib.suppress(OSError):
            if stat.S_ISREG(info.st_mode):
                path.unlink()
            elif stat.S_ISDIR(info.st_mode):
                shutil.rmtree(path)
            else:
                continue
            removed.append(path)
    return removed


def _mkstemp(target: Path) -> tuple[int, Path]:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f"{temp_prefix(target)}{os.getpid()}-", suffix=_SUFFIX)
    return fd, Path(name)


@contextlib.contextmanager
def atomic_write(target: str | os.PathLike[str], *, fsync: bool = False) -> Iterator[BinaryIO]:
    """Open a new temporary file beside ``target`` for writing; move it into place on success.

    The file takes the mode of the file it replaces (or the usual mode of a new file).
    On any exception (``KeyboardInterrupt`` and ``SystemExit`` included) the temporary
    file is removed and ``target`` is left untouched. Leftovers of killed runs of the
    same target are removed first (:func:`remove_stale_temps`).

    Parameters
    ----------
    target
        The file to create or replace.
    fsync
        Flush the file and its directory to disk before returning.
    """
    target = Path(target)
    remove_stale_temps(target)
    fd, tmp = _mkstemp(target)
    try:
        with contextlib.suppress(OSError):  # not every filesystem has modes
            os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, "wb") as file:
            yield file
            if fsync:
                file.flush()
                os.fsync(file.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if fsync:
        fsync_dir(target.parent)


def unwritable_parent(target: Path) -> str | None:
    """Why nothing can be written beside ``target`` (where its temporary file or directory
    goes), or None: its directory is missing, or this process may not create files in it.

    Examples
    --------
    >>> unwritable_parent(Path("/no/such/dir/out.html"))
    'cannot write here: the directory /no/such/dir does not exist'
    """
    parent = target.parent
    if not parent.is_dir():
        return f"cannot write here: the directory {parent} does not exist"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write here: no permission to create files in {parent}"
    return None


def make_temp_dir(target: Path) -> Path:
    """Create a new, unpredictable directory beside ``target``, with a new directory's usual mode."""
    remove_stale_temps(target)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{temp_prefix(target)}{os.getpid()}-", suffix=_SUFFIX))
    with contextlib.suppress(OSError):
        os.chmod(tmp, 0o777 & ~_umask())
    return tmp


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike[str], names: tuple[str, ...]) -> Iterator[Path]:
    """A temporary directory whose files ``names`` replace those in ``target`` on success.

    A new ``target`` appears whole (the directory is renamed into place); in an existing
    one each file is replaced whole. On any exception the temporary directory is removed.
    """
    target = Path(target)
    exists = target.is_dir()
    tmp = make_temp_dir(target)
    try:
        yield tmp
        if exists:
            for name in names:
                os.replace(tmp / name, target / name)
            tmp.rmdir()
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def fsync_dir(directory: Path) -> None:
    """Flush a directory's entries to disk, where the platform allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def is_no_space(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or quota) is full, as an OSError or in a library's message."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return "No space left on device" in text or "Disk quota exceeded" in text


def try_lock(file: BinaryIO) -> bool:
    """Lock an open file for this process without waiting: ``False`` if another holds it.

    The lock (``flock``, exclusive) lasts until the file is closed. Where the platform has
    no ``flock`` (Windows) nothing is locked and the answer is ``True``.
    """
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def lock_in(directory: Path, name: str) -> BinaryIO | None:
    """Open (or create) the lock file ``directory/name`` and lock it (:func:`try_lock`).

    Returns the open file, whose closing releases the lock, or ``None`` if another
    process holds it. A lock file that another process replaces or removes between our
    open and our lock (the directory moved into place anew) is opened again, so that the
    lock held is always that of the file now at ``directory/name``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> held = lock_in(folder, ".lock")
    >>> held is not None
    True
    >>> held.close()
    """
    path = directory / name
    for _ in range(20):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o644)
        except FileNotFoundError:  # the directory is being replaced: try again
            continue
        file = open(fd, "rb+", buffering=0)  # noqa: SIM115 - returned to the caller, who closes it
        if not try_lock(file):
            file.close()
            return None
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                return file
        except FileNotFoundError:
            pass
        file.close()
    msg = f"{path}: cannot take the lock: another process keeps replacing it"
    raise OSError(errno.EBUSY, msg)


@contextlib.contextmanager
def directory_lock(
    directory: Path, name: str, *, busy: Callable[[], BaseException], keep: str
) -> Iterator[Callable[[Path], None]]:
    """Hold the lock file ``directory/name`` (creating ``directory`` if need be) while a
    writer replaces the directory; ``busy()`` is raised at once if another process holds it.

    Yields a function that locks the lock file of the staging directory too, to be called
    before the staging directory is renamed into place, so that the lock at
    ``directory/name`` stays held across the swap. On leaving, the lock file is removed if
    it is still ours (another writer that opened it meanwhile finds it gone once it has
    the lock, and takes a new one, :func:`lock_in`), and a directory created here is
    removed again unless it holds ``keep`` (the writer failed).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "data"
    >>> with directory_lock(folder, ".lock", busy=lambda: RuntimeError("busy"), keep="done"):
    ...     with directory_lock(folder, ".lock", busy=lambda: RuntimeError("busy"), keep="done"):
    ...         pass
    Traceback (most recent call last):
    ...
    RuntimeError: busy
    >>> folder.exists()
    False
    """
    created = not directory.exists()
    directory.mkdir(exist_ok=True)
    first = lock_in(directory, name)
    if first is None:
        if created:
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise busy()
    held = [first]

    def carry(staging: Path) -> None:
        file = lock_in(staging, name)
        assert file is not None, "a new staging directory is ours alone"
        held.append(file)

    try:
        yield carry
    finally:
        with contextlib.suppress(OSError):
            now = os.stat(directory / name)
            if any(os.path.samestat(os.fstat(file.fileno()), now) for file in held):
                (directory / name).unlink()
        for file in held:
            file.close()
        if created and not (directory / keep).exists():
            with contextlib.suppress(OSError):
                directory.rmdir()
