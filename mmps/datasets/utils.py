# Copyright (c) mmps contributors. All rights reserved.
"""Helpers shared by the person search dataset parsers."""
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import ExifTags, Image
from scipy.io import loadmat

from mmps.structures import UNLABELED_ID


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


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """Convert (N, 4) boxes from ``x, y, w, h`` to ``x1, y1, x2, y2``."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    boxes[:, 2:] += boxes[:, :2]
    return boxes


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


def check_boxes(boxes: np.ndarray,
                where: str,
                layout: str = 'xyxy',
                name_of: Callable[[int], str] = 'box {}'.format) -> np.ndarray:
    """Refuse boxes that are not finite or have no area.

    Such boxes make no sense as annotations and stop mmcv's RoIAlign with an
    internal assertion; every reader of boxes (dataset loaders, the
    annotation transform, the search API) checks them here.

    Args:
        boxes (np.ndarray): Boxes, (N, 4).
        where (str): The file or record they come from, for the error.
        layout (str): ``'xyxy'`` (``x1, y1, x2, y2``) or ``'xywh'``
            (``x, y, w, h``, COCO's). Defaults to ``'xyxy'``.
        name_of (Callable[[int], str]): Names box ``i`` in the error.
            Defaults to ``'box {i}'``.

    Returns:
        np.ndarray: The boxes as ``x1, y1, x2, y2``, (N, 4) float64.

    Raises:
        ValueError: Naming the first bad box and counting the others.
    """
    if layout not in ('xyxy', 'xywh'):
        raise ValueError(f"layout must be 'xyxy' or 'xywh', got {layout!r}")
    given = np.asarray(boxes, dtype=np.float64)
    if given.ndim != 2 or given.shape[1] != 4:
        raise ValueError(f'{where}: boxes must be of shape (N, 4), got '
                         f'{given.shape}')
    xyxy = xywh_to_xyxy(given) if layout == 'xywh' else given
    finite = np.isfinite(given).all(axis=1)
    # compared after the conversion: x + w may equal x in floating point
    empty = (xyxy[:, 2] <= xyxy[:, 0]) | (xyxy[:, 3] <= xyxy[:, 1])
    bad = np.flatnonzero(~finite | empty)
    if len(bad) == 0:
        return xyxy
    first = int(bad[0])
    names = 'x1, y1, x2, y2' if layout == 'xyxy' else 'x, y, w, h'
    expected = ('x1 < x2 and y1 < y2'
                if layout == 'xyxy' else 'w > 0 and h > 0')
    problem = 'is not finite' if not finite[first] else 'has no area'
    more = f' ({len(bad) - 1} more bad boxes)' if len(bad) > 1 else ''
    raise ValueError(f'{where}: {name_of(first)} {given[first].tolist()} '
                     f'({names}) {problem}; expected finite numbers with '
                     f'{expected}{more}')


def clip_boxes_to_image(boxes: np.ndarray, width: int, height: int,
                        where: str) -> np.ndarray:
    """Clip (N, 4) ``x1, y1, x2, y2`` boxes to the image.

    Boxes of benchmark annotations cross the border by a few pixels (PRW has
    negative coordinates); they are clipped. A box that has no area inside
    the image is an annotation error and raises.

    Args:
        boxes (np.ndarray): Boxes, shape (N, 4).
        width (int): Image width.
        height (int): Image height.
        where (str): The file (and entry) the boxes come from, for errors.

    Returns:
        np.ndarray: Clipped boxes, shape (N, 4), float32.
    """
    clipped = boxes.astype(np.float64).copy()
    clipped[:, 0::2] = clipped[:, 0::2].clip(0, width)
    clipped[:, 1::2] = clipped[:, 1::2].clip(0, height)
    empty = (clipped[:, 2] <= clipped[:, 0]) | (clipped[:, 3] <= clipped[:, 1])
    if empty.any():
        bad = boxes[np.flatnonzero(empty)[0]].tolist()
        raise ValueError(
            f'{where}: box {bad} (x1, y1, x2, y2) lies outside its '
            f'{width}x{height} image')
    return clipped.astype(np.float32)


def make_instances(
        boxes: np.ndarray,
        person_ids: np.ndarray,
        ignore_flags: Optional[np.ndarray] = None) -> List[Dict[str, Any]]:
    """mmdet ``instances`` of person boxes.

    Args:
        boxes (np.ndarray): ``x1, y1, x2, y2`` boxes, shape (N, 4).
        person_ids (np.ndarray): Person id of each box, shape (N, ).
        ignore_flags (np.ndarray, optional): 1 for a box to ignore, shape
            (N, ). Defaults to all 0.

    Returns:
        list[dict]: One dict per box with ``bbox``, ``bbox_label`` 0,
        ``ignore_flag`` and ``person_id``.
    """
    if ignore_flags is None:
        ignore_flags = np.zeros(len(boxes), dtype=np.int64)
    return [
        dict(
            bbox=[float(v) for v in box],
            bbox_label=0,
            ignore_flag=int(ignore),
            person_id=int(pid))
        for box, pid, ignore in zip(boxes, person_ids, ignore_flags)
    ]


def contiguous_ids(raw_ids: np.ndarray, labeled_ids: np.ndarray) -> np.ndarray:
    """Map raw ids to ``0..L-1`` by their rank among the labeled ids.

    Args:
        raw_ids (np.ndarray): Ids to map, shape (N, ); negative ids are
            unlabeled.
        labeled_ids (np.ndarray): The distinct labeled ids, sorted, shape
            (L, ), e.g. ``np.unique`` of the non-negative training ids.

    Returns:
        np.ndarray: Contiguous ids, shape (N, ), -1 for unlabeled ids.
    """
    raw_ids = np.asarray(raw_ids, dtype=np.int64)
    labeled = raw_ids >= 0
    positions = np.searchsorted(labeled_ids, raw_ids[labeled])
    in_range = positions < len(labeled_ids)
    known = in_range.copy()
    known[in_range] = labeled_ids[
        positions[in_range]] == raw_ids[labeled][in_range]
    if not known.all():
        raise ValueError(f'person id {raw_ids[labeled][~known][0]} is not '
                         f'among the labeled ids')
    contiguous = np.full(len(raw_ids), UNLABELED_ID, dtype=np.int64)
    contiguous[labeled] = positions
    return contiguous


def match_boxes(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of each query row among the key rows, by equal values.

    Both are integer arrays of shape (N, K) (e.g. image index and four box
    coordinates); rows of ``keys`` are assumed unique. Vectorised with a
    sort and a binary search, no Python loop over rows.

    Args:
        keys (np.ndarray): Key rows, shape (N, K).
        queries (np.ndarray): Query rows, shape (M, K).

    Returns:
        np.ndarray: Index into ``keys`` of each query, -1 where it has no
        equal row, shape (M, ).
    """
    keys = np.ascontiguousarray(keys, dtype=np.int64)
    queries = np.ascontiguousarray(queries, dtype=np.int64)
    if len(keys) == 0:
        return np.full(len(queries), -1, dtype=np.int64)
    row_type = np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))
    key_rows = keys.view(row_type).ravel()
    query_rows = queries.view(row_type).ravel()
    order = np.argsort(key_rows, kind='stable')
    positions = np.searchsorted(key_rows[order], query_rows)
    positions = positions.clip(0, len(keys) - 1)
    found = key_rows[order][positions] == query_rows
    return np.where(found, order[positions], -1)
