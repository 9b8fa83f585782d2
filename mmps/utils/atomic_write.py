# Copyright (c) mmps contributors. All rights reserved.
import contextlib
import os
import os.path as osp
import uuid
from typing import BinaryIO, Iterator


@contextlib.contextmanager
def atomic_write(path: str) -> Iterator[BinaryIO]:
    """Open a binary file that appears at ``path`` only once complete.

    The data goes to a hidden temporary file in the same folder, which is
    flushed to disk and then renamed over ``path`` (``os.replace``, atomic
    on POSIX and Windows). A crash or an error before the end leaves
    ``path`` as it was: the old file or none, never a truncated one. The
    folder is created if missing.

    Args:
        path (str): The file to write.

    Yields:
        BinaryIO: The temporary file, open for writing.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = osp.join(folder,
                         f'.{osp.basename(path)}.{uuid.uuid4().hex}.tmp')
    try:
        with open(temporary, 'xb') as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        if osp.exists(temporary):
            os.remove(temporary)
