# Copyright (c) mmps contributors. All rights reserved.
"""Image sizes as loaded, read from the files' headers."""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from PIL import ExifTags, Image

from .file_checks import check_file
from .parse_cache import cache_file_of, read_cache, write_cache

#: EXIF orientations that turn an image by 90 degrees: decoded (by mmcv's
#: cv2 and pillow backends alike), its width and height are swapped.
TRANSPOSING_ORIENTATIONS = (5, 6, 7, 8)
#: Bad images named in one error before the rest are only counted.
MAX_LISTED = 10
#: Names the layout of the cached image sizes.
SIZES_LAYOUT = 'image_sizes/v1'


def _orientation(image: Image.Image) -> int:
    """EXIF orientation (1-8) of an opened image, 1 if the header has none."""
    exif_bytes = image.info.get('exif')
    if not exif_bytes:
        return 1
    exif = Image.Exif()
    exif.load(exif_bytes)
    return int(exif.get(ExifTags.Base.Orientation, 1))


def read_image_size(path: str) -> Tuple[int, int]:
    """Width and height of an image as loaded, from its header only.

    The pixels are not decoded. An EXIF orientation that turns the image by
    90 degrees swaps the two, as mmcv's image decoding does.

    Args:
        path (str): The image file.

    Returns:
        tuple[int, int]: ``(width, height)``.
    """
    check_file(path, 'image')
    try:
        with Image.open(path) as image:
            width, height = image.size
            if _orientation(image) in TRANSPOSING_ORIENTATIONS:
                return height, width
            return width, height
    except Exception as error:  # PIL raises several unrelated types
        raise ValueError(f'cannot read image {path}: {error}') from error


def _header_sizes(paths: Sequence[str]) -> Tuple[np.ndarray, Dict[int, str]]:
    """Sizes from the headers, and the problem of each bad image by index."""
    sizes = np.zeros((len(paths), 2), dtype=np.int64)
    problems = {}
    for i, path in enumerate(paths):
        try:
            sizes[i] = read_image_size(path)
        except (FileNotFoundError, ValueError) as error:
            problems[i] = str(error)
    return sizes, problems


def _file_states(paths: Sequence[str]) -> Optional[np.ndarray]:
    """Size and modification time (ns) of each file, (N, 2) int64; None
    if one cannot be read."""
    states = np.zeros((len(paths), 2), dtype=np.int64)
    try:
        for i, path in enumerate(paths):
            stat = os.stat(path)
            states[i] = stat.st_size, stat.st_mtime_ns
    except OSError:
        return None
    return states


def _check_sizes(arrays: Dict[str, np.ndarray], count: int) -> None:
    """Raise a ValueError unless ``arrays`` hold ``count`` sizes."""
    sizes = arrays.get('sizes')
    if sizes is None or sizes.dtype != np.int64 or sizes.shape != (count, 2):
        raise ValueError(f'expected the sizes of {count} images')


def _cached_sizes(paths: Sequence[str]
                  ) -> Tuple[np.ndarray, Dict[int, str]]:  # yapf: disable
    """:func:`_header_sizes`, from the cache for a list of good images.

    The sizes of a list of images are cached
    (:mod:`mmps.datasets.parse_cache`) while every image keeps its size and
    modification time: a second read stats the files instead of opening
    them. A list with a bad image is not cached.
    """
    absolute = '\n'.join(osp.abspath(p) for p in paths)
    cache_file = cache_file_of('image_sizes', f'{SIZES_LAYOUT}\n{absolute}')
    states = None if cache_file is None else _file_states(paths)
    if states is None:  # no cache, or a missing file: read every header
        return _header_sizes(paths)
    source = json.dumps(
        dict(
            layout=SIZES_LAYOUT,
            paths=hashlib.sha1(absolute.encode()).hexdigest(),
            states=hashlib.sha1(states.tobytes()).hexdigest()))
    arrays = read_cache(cache_file, source,
                        lambda arrays: _check_sizes(arrays, len(paths)))
    if arrays is not None:
        return arrays['sizes'], {}
    sizes, problems = _header_sizes(paths)
    if not problems:
        write_cache(cache_file, source, dict(sizes=sizes))
    return sizes, problems


def read_image_sizes(paths: Sequence[str],
                     where: str,
                     declared: Optional[np.ndarray] = None) -> np.ndarray:
    """Sizes of many images from their headers, every bad image at once.

    The sizes of a list of good images are cached while each image keeps
    its size and modification time (see
    :mod:`mmps.datasets.parse_cache`); the declared sizes are checked
    every time.

    Args:
        paths (Sequence[str]): The image files, N of them.
        where (str): The annotation file that lists them, for the error.
        declared (np.ndarray, optional): ``width, height`` the annotations
            give, (N, 2); a value <= 0 is not given and not checked.

    Returns:
        np.ndarray: ``width, height`` of each image as loaded, (N, 2) int64.

    Raises:
        ValueError: Naming each image (up to :data:`MAX_LISTED`, the others
            counted) that is missing, cannot be read, or whose size differs
            from the declared one.
    """
    sizes, problems = _cached_sizes(paths)
    if declared is not None:
        declared = np.asarray(declared).reshape(-1, 2)
        wrong = ((declared > 0) & (declared != sizes)).any(axis=1)
        for i in np.flatnonzero(wrong):
            if i in problems:
                continue
            width, height = (
                str(int(v)) if v > 0 else '?' for v in declared[i])
            problems[i] = (
                f'{paths[i]} is {sizes[i, 0]}x{sizes[i, 1]} as loaded (width '
                f'x height, EXIF orientation applied) but declared '
                f'{width}x{height}')
    if problems:
        listing = '\n'.join(f'  {problems[i]}'
                            for i in sorted(problems)[:MAX_LISTED])
        more = len(problems) - MAX_LISTED
        if more > 0:
            listing += f'\n  ... and {more} more'
        raise ValueError(f'{where}: {len(problems)} of {len(paths)} images '
                         f'are missing, unreadable or not of their declared '
                         f'size:\n{listing}')
    return sizes
