# Copyright (c) mmps contributors. All rights reserved.
"""Annotated boxes: layout conversion, validity checks, clipping."""
from typing import Callable

import numpy as np


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """Convert (N, 4) boxes from ``x, y, w, h`` to ``x1, y1, x2, y2``."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    boxes[:, 2:] += boxes[:, :2]
    return boxes


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
