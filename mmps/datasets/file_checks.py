# Copyright (c) mmps contributors. All rights reserved.
"""Clear errors for missing files and folders of a dataset."""
import os.path as osp


def check_file(path: str, what: str) -> str:
    """Return ``path`` if it is a file, else raise a clear error.

    Args:
        path (str): The expected file.
        what (str): What the file is, for the message.

    Returns:
        str: ``path``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    return path


def check_dir(path: str, what: str) -> str:
    """Return ``path`` if it is a directory, else raise a clear error."""
    if not osp.isdir(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    return path
