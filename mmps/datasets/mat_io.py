# Copyright (c) mmps contributors. All rights reserved.
"""Reading MATLAB ``.mat`` annotation files (CUHK-SYSU, PRW)."""
from typing import Any, List, Sequence, Tuple

import numpy as np
from scipy.io import loadmat

from .file_checks import check_file


def load_mat(path: str, keys: Sequence[str], what: str) -> Tuple[str, Any]:
    """Load a ``.mat`` file and return the first of ``keys`` it holds.

    Args:
        path (str): The ``.mat`` file.
        keys (Sequence[str]): Accepted variable names, in order of
            preference.
        what (str): What the file is, for error messages.

    Returns:
        tuple[str, Any]: The key found and its value.
    """
    check_file(path, what)
    try:
        content = loadmat(path)
    except Exception as error:  # scipy raises several unrelated types
        raise ValueError(f'cannot read {what} {path}: {error}') from error
    for key in keys:
        if key in content:
            return key, content[key]
    found = sorted(k for k in content if not k.startswith('__'))
    raise KeyError(f'{what} {path} has none of the keys {list(keys)}; '
                   f'it holds {found}')


def mat_str(value: Any) -> str:
    """The string inside a MATLAB char array, however deeply wrapped."""
    while isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f'expected one string, got an array of shape '
                             f'{value.shape}')
        value = value.flat[0]
    return str(value)


def mat_cell_strings(cell: np.ndarray) -> List[str]:
    """The strings of a MATLAB cell array of char arrays, in order."""
    return [mat_str(item) for item in np.asarray(cell, dtype=object).flat]


def mat_struct_items(struct_array: np.ndarray) -> np.ndarray:
    """The elements of a MATLAB struct array as a flat array of records."""
    return np.asarray(struct_array).reshape(-1)
