# Copyright (c) mmps contributors. All rights reserved.
"""Image sizes as loaded, read from the files' headers."""
from typing import Optional, Sequence, Tuple

import numpy as np
from PIL import ExifTags, Image

from .file_checks import check_file

#: EXIF orientations that turn an image by 90 degrees: decoded (by mmcv's
#: cv2 and pillow backends alike), its width and height are swapped.
TRANSPOSING_ORIENTATIONS = (5, 6, 7, 8)
#: Bad images named in one error before the rest are only counted.
MAX_LISTED = 10


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


def read_image_sizes(paths: Sequence[str],
                     where: str,
                     declared: Optional[np.ndarray] = None) -> np.ndarray:
    """Sizes of many images from their headers, every bad image at once.

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
    sizes = np.zeros((len(paths), 2), dtype=np.int64)
    problems = []
    for i, path in enumerate(paths):
        try:
            sizes[i] = read_image_size(path)
        except (FileNotFoundError, ValueError) as error:
            problems.append(str(error))
            continue
        if declared is None:
            continue
        given = declared[i] > 0
        if (declared[i][given] != sizes[i][given]).any():
            width, height = (
                str(int(v)) if v > 0 else '?' for v in declared[i])
            problems.append(
                f'{path} is {sizes[i, 0]}x{sizes[i, 1]} as loaded (width x '
                f'height, EXIF orientation applied) but declared '
                f'{width}x{height}')
    if problems:
        listing = '\n'.join(f'  {problem}'
                            for problem in problems[:MAX_LISTED])
        more = len(problems) - MAX_LISTED
        if more > 0:
            listing += f'\n  ... and {more} more'
        raise ValueError(f'{where}: {len(problems)} of {len(paths)} images '
                         f'are missing, unreadable or not of their declared '
                         f'size:\n{listing}')
    return sizes
