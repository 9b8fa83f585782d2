# Copyright (c) mmps contributors. All rights reserved.
"""A cache of annotation files parsed into numpy arrays.

Parsing a large ``.mat`` annotation (CUHK-SYSU's ``TestG100.mat``: a struct
per query and gallery entry) takes seconds, many times the evaluation it
serves. The arrays parsed from a file are kept in an ``.npz`` file of the
cache folder, valid while the file keeps its path, size and modification
time (``st_mtime_ns``); a cache file that is unreadable, of another source
or of another layout is ignored and rewritten. Arrays computed from many
files (the sizes of a dataset's images, from their headers) are kept the
same way, valid while every file keeps its size and modification time
(see :mod:`mmps.datasets.image_headers`). Cache files hold plain
arrays (numbers and strings) and are read with ``allow_pickle=False``:
reading one never runs code.

The cache folder is, in order: the ``cache_dir`` argument, the
environment variable :data:`CACHE_DIR_ENV` (``off`` turns the cache off),
``$XDG_CACHE_HOME/mmps/annotations``, ``~/.cache/mmps/annotations``. A
folder that cannot be written only costs the parse.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Callable, Dict, Optional

import numpy as np
from mmengine.logging import print_log

from mmps.utils import atomic_write

#: Environment variable naming the cache folder; ``off`` disables it.
CACHE_DIR_ENV = 'MMPS_ANNOTATION_CACHE'
#: Key of the cache file's description of its source.
SOURCE_KEY = '__source__'

Arrays = Dict[str, np.ndarray]


def cache_dir_of(cache_dir: Optional[str] = None) -> Optional[str]:
    """The cache folder in use, None when caching is off.

    Args:
        cache_dir (str, optional): A folder that takes precedence over the
            environment and the default.

    Returns:
        str, optional: The folder (not necessarily existing yet).
    """
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_DIR_ENV)
    if cache_dir is None:
        base = os.environ.get('XDG_CACHE_HOME') or osp.join(
            osp.expanduser('~'), '.cache')
        cache_dir = osp.join(base, 'mmps', 'annotations')
    return None if cache_dir.strip().lower() in ('', 'off') else cache_dir


def _source(path: str, parser: str) -> str:
    """What a cache file of ``path`` must have been made from, as JSON."""
    stat = os.stat(path)
    return json.dumps(
        dict(
            path=osp.abspath(path),
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            parser=parser),
        sort_keys=True)


def cache_file_of(name: str,
                  identity: str,
                  cache_dir: Optional[str] = None) -> Optional[str]:
    """The cache file of some arrays, None when caching is off.

    Args:
        name (str): Starts the file's name, for people (e.g. the source
            file's name).
        identity (str): What the arrays are of (e.g. the source file's path
            and the parser); one cache file per identity.
        cache_dir (str, optional): See :func:`cache_dir_of`.

    Returns:
        str, optional: ``<cache folder>/<name>-<hash of identity>.npz``.
    """
    folder = cache_dir_of(cache_dir)
    if folder is None:
        return None
    digest = hashlib.sha1(identity.encode()).hexdigest()[:16]
    return osp.join(folder, f'{name}-{digest}.npz')


def read_cache(cache_file: str, source: str,
               check: Callable[[Arrays], object]) -> Optional[Arrays]:
    """The arrays of a cache file made from ``source``, else None.

    Args:
        cache_file (str): From :func:`cache_file_of`.
        source (str): The state of the files the arrays were computed
            from (e.g. their sizes and modification times), as the file
            must have recorded it.
        check (Callable[[dict[str, np.ndarray]], object]): Raises a
            ValueError for arrays of the wrong layout: such a cache file is
            ignored (logged).

    Returns:
        dict[str, np.ndarray], optional: The arrays; None for a missing,
        unreadable, stale or ill-formed cache file.
    """
    try:
        with np.load(cache_file, allow_pickle=False) as content:
            if SOURCE_KEY not in content.files or str(
                    content[SOURCE_KEY]) != source:
                return None
            arrays = {
                key: content[key]
                for key in content.files if key != SOURCE_KEY
            }
    except FileNotFoundError:
        return None
    except Exception as error:  # a corrupt zip raises several types
        print_log(
            f'ignoring the unreadable annotation cache {cache_file}: '
            f'{error}',
            logger='current')
        return None
    try:
        check(arrays)
    except ValueError as error:
        print_log(
            f'ignoring the annotation cache {cache_file}: {error}',
            logger='current')
        return None
    return arrays


def write_cache(cache_file: str, source: str, arrays: Arrays) -> None:
    """Write a cache file atomically; a failure is logged, not raised.

    Args:
        cache_file (str): From :func:`cache_file_of`.
        source (str): See :func:`read_cache`, taken before the arrays were
            computed (a file changed meanwhile is then read again later).
        arrays (dict[str, np.ndarray]): Arrays without Python objects
            (``dtype=object``).
    """
    try:
        with atomic_write(cache_file) as file:
            np.savez(file, **{SOURCE_KEY: np.array(source)}, **arrays)
    except OSError as error:
        print_log(
            f'cannot write the annotation cache {cache_file}: {error}',
            logger='current')


def cached_parse(path: str,
                 parse: Callable[[], Arrays],
                 parser: str,
                 check: Callable[[Arrays], object],
                 cache_dir: Optional[str] = None) -> Arrays:
    """The arrays parsed from a file, from the cache when it holds them.

    Args:
        path (str): The source file; must exist.
        parse (Callable[[], dict[str, np.ndarray]]): Parses it. The arrays
            must not hold Python objects (``dtype=object``).
        parser (str): Names the parser and its layout; change it when the
            layout changes, so that older cache files are not read.
        check (Callable[[dict[str, np.ndarray]], object]): Raises a
            ValueError for arrays of the wrong layout; a cache file whose
            arrays fail it is parsed again.
        cache_dir (str, optional): See :func:`cache_dir_of`.

    Returns:
        dict[str, np.ndarray]: The arrays, equal to ``parse()``'s.
    """
    cache_file = cache_file_of(
        osp.basename(path), f'{osp.abspath(path)}\n{parser}', cache_dir)
    if cache_file is None:
        return parse()
    # taken before parsing: a file changed meanwhile is parsed again later
    source = _source(path, parser)
    arrays = read_cache(cache_file, source, check)
    if arrays is None:
        arrays = parse()
        write_cache(cache_file, source, arrays)
    return arrays
