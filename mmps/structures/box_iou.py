# Copyright (c) mmps contributors. All rights reserved.
"""IoU of numpy boxes by mmdet's ``bbox_overlaps``, as person search scores.

The community's reference evaluation (``_compute_iou`` of the OIM and
SeqNet code) divides the intersection by the union of ``x1, y1, x2, y2``
boxes, without the ``+ 1`` of old pixel conventions, in the boxes' own
precision. mmdet's torch ``bbox_overlaps`` computes the same expression in
the same order; its union is floored at ``eps``, which ``eps=-inf`` turns
off, so the IoUs are the reference's bit for bit, for any boxes (two empty
boxes give NaN, which reaches no threshold). mmdet's numpy
``bbox_overlaps`` would not do: it rounds the boxes to float32 and floors
the union at ``eps``.
"""
import numpy as np
import torch
from mmdet.structures.bbox import bbox_overlaps


def box_iou(boxes_a: np.ndarray,
            boxes_b: np.ndarray,
            is_aligned: bool = False) -> np.ndarray:
    """IoU of ``x1, y1, x2, y2`` boxes, as the reference evaluation has it.

    Each box's area is computed in the precision of its own array, the rest
    in the wider of the two, as numpy would compute the expression (torch
    promotes float32 and float64 the same way); integer boxes are taken as
    float64, where their arithmetic is exact.

    Args:
        boxes_a (np.ndarray): Boxes, shape (N, 4).
        boxes_b (np.ndarray): Boxes, shape (M, 4); M == N if
            ``is_aligned``.
        is_aligned (bool): IoU of row i of ``boxes_a`` with row i of
            ``boxes_b`` instead of every pair. Defaults to False.

    Returns:
        np.ndarray: IoUs, shape (N, M), or (N, ) if ``is_aligned``.
    """
    return bbox_overlaps(
        _as_tensor(boxes_a),
        _as_tensor(boxes_b),
        is_aligned=is_aligned,
        eps=-np.inf).numpy()


def _as_tensor(boxes: np.ndarray) -> torch.Tensor:
    """Boxes as a float tensor of their own precision, shape (N, 4)."""
    boxes = np.asarray(boxes)
    dtype = boxes.dtype if np.issubdtype(boxes.dtype,
                                         np.floating) else np.dtype('float64')
    return torch.from_numpy(
        np.ascontiguousarray(boxes, dtype.newbyteorder('=')).reshape(-1, 4))
