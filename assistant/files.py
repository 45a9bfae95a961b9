"""Files Hearth reads and writes, handled with care.

Every file the configuration names is read with :func:`read_text_file`: only a regular file (a
FIFO, a device such as ``/dev/zero`` or a folder is refused at once, never waited on), at most a
stated size, and a refusal is one line naming the file, the key and what to do. Hearth's own
private files (the journal, kept audio, lists) live in folders made with
:func:`private_folder` and are created ``0600``, whoever's umask is in force.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Final

from .errors import ConfigError

__all__ = ["KIB", "MIB", "private_file", "private_folder", "read_bytes_file", "read_text_file"]

KIB: Final = 1024
MIB: Final = 1024 * 1024


def read_bytes_file(path: str | Path, limit_bytes: int, key: str) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit_bytes``; raises
    :class:`ConfigError` (naming ``key``) for anything else."""
    where = f"{path} ({key})" if key else str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise ConfigError("file_unreadable", f"{where}: cannot open it: {err.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise ConfigError("file_not_regular", f"{where}: {kind}; give the path of a file")
        if info.st_size > limit_bytes:
            raise ConfigError(
                "file_too_large",
                f"{where}: {info.st_size} bytes, more than the {limit_bytes} allowed here",
            )
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 64 * KIB):
            total += len(chunk)
            if total > limit_bytes:  # it grew while being read
                raise ConfigError(
                    "file_too_large", f"{where}: more than the {limit_bytes} bytes allowed here"
                )
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as err:
        raise ConfigError("file_unreadable", f"{where}: cannot read it: {err.strerror}") from None
    finally:
        os.close(fd)


def read_text_file(path: str | Path, limit_bytes: int, key: str) -> str:
    """The UTF-8 text of the regular file ``path`` (see :func:`read_bytes_file`)."""
    data = read_bytes_file(path, limit_bytes, key)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        where = f"{path} ({key})" if key else str(path)
        raise ConfigError("file_not_text", f"{where}: not UTF-8 text") from None


def private_folder(path: Path) -> Path:
    """``path`` as a folder, created ``0700`` (with its missing parents) if it is not there."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            path.chmod(0o700)  # mkdir's mode is cut by the umask; the folder is ours
    return path


def private_file(path: Path) -> Path:
    """``path`` created empty ``0600`` if it is not there, else made ``0600``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    os.close(fd)
    with contextlib.suppress(OSError):
        path.chmod(0o600)
    return path
