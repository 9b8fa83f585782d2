# Copyright (c) mmps contributors. All rights reserved.
import contextlib
import os
import os.path as osp
import uuid
from typing import BinaryIO, Iterator


def _fsync(path: str) -> None:
    """Flush a file to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str, suffix: str = '') -> Iterator[str]:
    """A temporary path whose file appears at ``path`` only once complete.

    The body writes the temporary file (hidden, in the same folder); when it
    ends without an error, the file is flushed to the disk and renamed over
    ``path`` (``os.replace``, atomic on one file system), so ``path`` holds
    either its old content (or nothing) or the complete new one, even if
    the process is killed meanwhile. On an error the temporary file is
    removed; a killed process leaves it behind, never read. The folder is
    created if missing.

    Example:
        >>> with atomic_path('work_dir/epoch_3.pth') as tmp:
        ...     torch.save(checkpoint, tmp)

    Args:
        path (str): The file to write.
        suffix (str): End of the temporary file's name, for writers that
            choose the format by the name (OpenCV's ``VideoWriter``: pass
            ``osp.splitext(path)[1]``). Defaults to ''.

    Yields:
        str: The temporary file to write instead.
    """
    folder, name = osp.split(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{name}.{uuid.uuid4().hex}.tmp{suffix}')
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        if osp.lexists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def atomic_write(path: str) -> Iterator[BinaryIO]:
    """Open a binary file that appears at ``path`` only once complete.

    :func:`atomic_path` for code that writes to a file object.

    Args:
        path (str): The file to write.

    Yields:
        BinaryIO: The temporary file, open for writing.
    """
    with atomic_path(path) as tmp:
        with open(tmp, 'xb') as file:
            yield file
