# Copyright (c) mmps contributors. All rights reserved.
import contextlib
import os
import os.path as osp
import uuid
from typing import Iterator


def _fsync(path: str) -> None:
    """Flush a file, or a folder's entries, to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str) -> Iterator[str]:
    """Write a file whole or not at all.

    The body writes a temporary file in the same folder (named
    ``NAME.<random>.tmp``); when it ends without an error, the file is
    flushed to the disk and renamed to ``path`` (``os.replace``, atomic on
    one file system), so ``path`` always holds either its old content or the
    complete new one, even if the process is killed meanwhile. On an error
    the temporary file is removed and ``path`` is left as it was; a killed
    process leaves the temporary file behind.

    Example:
        >>> with atomic_write('work_dir/last_checkpoint') as tmp:
        ...     with open(tmp, 'w') as f:
        ...         f.write('work_dir/epoch_3.pth')

    Args:
        path (str): The file to write.

    Yields:
        str: The temporary file to write instead.
    """
    folder, name = osp.split(osp.abspath(path))
    tmp = osp.join(folder, f'{name}.{uuid.uuid4().hex[:8]}.tmp')
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        if osp.lexists(tmp):
            os.remove(tmp)
        raise
    if os.name == 'posix':  # the rename itself survives a power cut
        _fsync(folder)
