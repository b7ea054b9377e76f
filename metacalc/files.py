"""Writing outputs so that a crash, a refused input or a full disk never leaves a half-written file behind.

Every output goes through here: written beside its place under a temporary name, then renamed onto it. What
stops a write (permission denied, a folder where the file should go, a file where a folder should be, a full
disk) is the user's to fix: it becomes a ``UserError`` with one line naming the output's path, and nothing is
left behind but what was there before.
"""

from __future__ import annotations

import errno
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from metacalc.errors import UserError

# Errors that only writing meets (a file in the way of a folder to make, a full disk, a read-only disk).
WRITING = frozenset({errno.ENOTDIR, errno.EEXIST, errno.ENOSPC, errno.EDQUOT, errno.EROFS})
# errno -> (what was found, what is expected), the words of the message "PATH: cannot write (got ..., expected ...)"
_REASONS = {
    errno.EACCES: ("permission denied", "a folder you may write to"),
    errno.EPERM: ("permission denied", "a folder you may write to"),
    errno.EROFS: ("a read-only file system", "a folder you may write to"),
    errno.ENOSPC: ("no space left on the disk", "room for the output: free some space, or write elsewhere"),
    errno.EDQUOT: ("the disk quota exceeded", "room for the output: free some space, or write elsewhere"),
    errno.EISDIR: ("a folder of that name", "a file there, or nothing: move the folder, or name another output"),
    errno.ENOTDIR: ("a file where a folder of the path should be", "folders along the path"),
    errno.EEXIST: ("a file where a folder of the path should be", "folders along the path"),
    errno.ENAMETOOLONG: ("a name too long for the file system", "a shorter path"),
}


def cannot_write(path: str | os.PathLike[str], error: OSError, doing: str = "write") -> str:
    """The one-line message for an output ``path`` that ``error`` stopped, naming what is in the way (``doing``:
    "read or write" where the error does not say which)."""
    path = os.fspath(path)
    got, expected = _REASONS.get(error.errno or 0, (error.strerror or type(error).__name__,
                                                    "a path that can be written"))
    if error.errno in (errno.ENOTDIR, errno.EEXIST):
        blocking = _file_on_the_way(path)
        got = f"the file {blocking}, where a folder of the path should be" if blocking else got
    return f"{path}: cannot {doing} (got {got}, expected {expected})"


def _file_on_the_way(path: str) -> str | None:
    """The first of ``path`` and its ancestors that exists and is not a folder (``path`` itself, when it is the
    folder that could not be made)."""
    parts = os.path.normpath(path).split(os.sep)
    for end in range(1, len(parts) + 1):
        ancestor = os.sep.join(parts[:end]) or os.sep
        if os.path.exists(ancestor) and not os.path.isdir(ancestor):
            return ancestor
    return None


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``, on error removed.

    For writers that want a file name (matplotlib's savefig, openpyxl's save). An OSError while writing (the
    writer's, or the rename's) is raised as a ``UserError`` naming ``path``.
    """
    path = os.fspath(path)
    try:
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
        os.close(fd)
    except OSError as error:
        raise UserError(cannot_write(path, error)) from error
    try:
        yield tmp
        # mkstemp creates 0600 files; give the output the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException as error:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(error, OSError):
            raise UserError(cannot_write(path, error)) from error
        raise


def write_atomic(path: str | os.PathLike[str], content: str | bytes) -> None:
    """Write ``content`` (str as UTF-8, or bytes) to ``path`` atomically."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)


# The time stamped on every entry of the zip files we write (.xlsx, .docx): the earliest a zip can hold.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def reproducible_zip(data: bytes, rewrite: Callable[[str, bytes], bytes] | None = None) -> bytes:
    """The zip archive ``data`` (an Office file as a library saved it) with every entry stamped ``ZIP_TIME``,
    the same permissions and compression, in the same order, and each entry's bytes passed through
    ``rewrite(name, bytes)`` when given (to fix the save time a library writes inside): openpyxl and
    python-docx stamp the current time into the zip entries, so the same document would differ from run to run."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if rewrite is not None:
                content = rewrite(info.filename, content)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return out.getvalue()


# The save time written inside the Office files we write (docProps/core.xml), unless a caller gives its own.
FIXED_TIME = "2024-01-01T00:00:00Z"


def workbook_bytes(book: Any, modified: str = FIXED_TIME) -> bytes:
    """The .xlsx bytes of an openpyxl Workbook with the save time replaced by ``modified`` (ISO 8601, UTC)
    and fixed zip entry times, so the same workbook always gives the same bytes."""
    buffer = io.BytesIO()
    book.save(buffer)

    def fixed_save_time(name: str, data: bytes) -> bytes:
        if name != "docProps/core.xml":
            return data
        return re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                      rb"\g<1>" + modified.encode() + rb"\g<2>", data)

    return reproducible_zip(buffer.getvalue(), fixed_save_time)
