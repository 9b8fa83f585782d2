# Copyright (c) mmps contributors. All rights reserved.
import numpy as np
import pytest

from mmps.structures import box_iou


def reference_iou(a, b):
    """``_compute_iou`` of the OIM and SeqNet evaluation code."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] -
                                                             b[1]) - inter
    return inter * 1.0 / union


def random_boxes(rng, num, dtype):
    xy = rng.uniform(0, 500, (num, 2))
    return np.concatenate([xy, xy + rng.uniform(1, 200, (num, 2))],
                          1).astype(dtype)


def test_hand_computed_cases():
    boxes_a = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float64)
    boxes_b = np.array([[5, 5, 15, 15], [10, 0, 20, 10]], np.float64)
    # 25 / (100 + 100 - 25); touching boxes do not overlap (no + 1)
    np.testing.assert_allclose(
        box_iou(boxes_a, boxes_b, is_aligned=True), [1 / 7, 0])
    np.testing.assert_allclose(box_iou(boxes_a[:1], boxes_b), [[1 / 7, 0]])
    assert box_iou(boxes_a, boxes_b[:0]).shape == (2, 0)
    assert box_iou(boxes_a[:0], boxes_b[:0], is_aligned=True).shape == (0, )
    # integer boxes are divided as floats
    iou = box_iou(boxes_a.astype(np.int64), boxes_b.astype(np.int64))
    assert iou.dtype == np.float64
    assert iou[0, 0] == pytest.approx(1 / 7)


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_matches_the_reference_code(dtype):
    rng = np.random.default_rng(0)
    boxes_a = random_boxes(rng, 40, dtype)
    boxes_b = random_boxes(rng, 30, dtype)
    boxes_b[:20] = boxes_a[:20] + rng.normal(0, 5, (20, 4))
    expected = np.array([[reference_iou(a, b) for b in boxes_b]
                         for a in boxes_a])
    ious = box_iou(boxes_a, boxes_b)
    assert ious.dtype == dtype
    assert (ious > 0.5).sum() > 10
    # two implementations: a tolerance (another CPU may vectorise them
    # differently), tight enough in float64 that a float32 rounding or an
    # eps in the union (mmdet's numpy bbox_overlaps) fails it
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(ious, expected, rtol=rtol, atol=0)
    np.testing.assert_allclose(
        box_iou(boxes_a[:30], boxes_b, is_aligned=True),
        expected[np.arange(30), np.arange(30)],
        rtol=rtol,
        atol=0)


def test_mixed_precision_as_numpy_computes_it():
    """float32 detections against float64 ground truth, as the metric
    has them: each box's area in its own precision, the rest in float64."""
    rng = np.random.default_rng(1)
    detections = random_boxes(rng, 50, np.float32)
    gt_boxes = (detections + rng.normal(0, 5, (50, 4))).astype(np.float64)
    width = np.clip(
        np.minimum(detections[:, 2], gt_boxes[:, 2]) -
        np.maximum(detections[:, 0], gt_boxes[:, 0]), 0, None)
    height = np.clip(
        np.minimum(detections[:, 3], gt_boxes[:, 3]) -
        np.maximum(detections[:, 1], gt_boxes[:, 1]), 0, None)
    inter = width * height
    area_det = (detections[:, 2] - detections[:, 0]) * (
        detections[:, 3] - detections[:, 1])
    area_gt = (gt_boxes[:, 2] - gt_boxes[:, 0]) * (
        gt_boxes[:, 3] - gt_boxes[:, 1])
    assert area_det.dtype == np.float32
    ious = box_iou(detections, gt_boxes, is_aligned=True)
    assert ious.dtype == np.float64
    # float64 areas for the detections would differ by about 1e-7
    np.testing.assert_allclose(
        ious, inter / (area_det + area_gt - inter), rtol=1e-12, atol=0)


def test_empty_boxes_match_nothing():
    empty = np.array([[3., 3., 3., 3.]])
    with np.errstate(invalid='ignore'):
        expected = reference_iou(empty[0], empty[0])
    assert np.isnan(expected)
    iou = box_iou(empty, empty)
    assert np.isnan(iou[0, 0]) and not iou[0, 0] >= 0
    assert box_iou(empty, np.array([[0., 0., 10., 10.]]))[0, 0] == 0
