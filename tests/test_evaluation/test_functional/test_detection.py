# Copyright (c) mmps contributors. All rights reserved.
"""Detection recall and AP against a per-image, per-detection loop."""
import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from mmps.evaluation.functional import evaluate_detection


def _iou(a, b):
    """IoU of two x1, y1, x2, y2 boxes, in float64."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return inter / (union - inter)


def _reference(gt_boxes, det_boxes, det_scores, skip):
    """The reference's loop: per image an IoU matrix, a detection matched
    when it and a ground truth are each other's first best overlap."""
    y_true, y_score, num_gt = [], [], 0
    for gts, dets, scores in zip(gt_boxes, det_boxes, det_scores):
        if skip and len(gts) == 0:
            continue
        num_gt += len(gts)
        if len(dets) == 0:
            continue
        matched = np.zeros(len(dets), dtype=bool)
        if len(gts):
            ious = np.array([[_iou(g, d) for d in dets] for g in gts])
            for i in range(len(gts)):
                for j in range(len(dets)):
                    if ious[i, j] >= 0.5 and ious[:, j].argmax() == i and \
                            ious[i].argmax() == j:
                        matched[j] = True
        y_true.extend(matched)
        y_score.extend(scores)
    if num_gt == 0 or not y_true:
        return 0.0, 0.0
    recall = sum(y_true) / num_gt
    if not any(y_true):
        return recall, 0.0
    return recall, average_precision_score(y_true, y_score) * recall


def _images(seed, count=60):
    """Integer boxes on a coarse grid: equal overlaps and duplicates are
    common; some images lack ground truth or detections."""
    rng = np.random.default_rng(seed)
    gts, dets, scores = [], [], []
    for _ in range(count):
        g = int(rng.integers(0, 4))
        d = int(rng.integers(0, 6))
        x = rng.integers(0, 4, (g, 1)) * 5
        gt = np.hstack([x, x * 0, x + 10, x * 0 + 20]).astype(np.float32)
        picks = rng.integers(0, max(g, 1), d)
        shift = rng.integers(-1, 2, (d, 4)) * 2
        det = (gt[picks] if g else np.tile([[0, 0, 10, 20]], (d, 1))) + shift
        gts.append(gt.reshape(-1, 4))
        dets.append(det.astype(np.float32).reshape(-1, 4))
        scores.append(rng.integers(0, 5, d).astype(np.float32) / 4)
    return gts, dets, scores


@pytest.mark.parametrize('seed', range(5))
@pytest.mark.parametrize('skip', [False, True])
def test_equals_the_reference_loop(seed, skip):
    gts, dets, scores = _images(seed)
    recall, ap = evaluate_detection(
        gts, dets, scores, skip_images_without_gt=skip)
    expected_recall, expected_ap = _reference(gts, dets, scores, skip)
    assert recall == pytest.approx(expected_recall, abs=1e-12)
    assert ap == pytest.approx(expected_ap, abs=1e-9)
    assert 0 < recall < 1


def test_by_hand():
    """Two detections equally good for one ground truth: the first counts;
    a detection whose best ground truth prefers another counts for none."""
    gts = [np.array([[0, 0, 10, 10], [20, 0, 30, 10]], np.float32)]
    dets = [
        np.array([[0, 0, 10, 10], [0, 0, 10, 10], [21, 0, 31, 10]], np.float32)
    ]
    scores = [np.array([0.9, 0.8, 0.7], np.float32)]
    recall, ap = evaluate_detection(gts, dets, scores)
    # matched: detections 0 and 2; AP of [1, 0, 1] scored .9, .8, .7
    assert recall == 1.0
    assert ap == pytest.approx((1 + 2 / 3) / 2)
    assert evaluate_detection([np.zeros((0, 4))], dets, scores) == (0.0, 0.0)
    assert evaluate_detection(gts, [np.zeros((0, 4))],
                              [np.zeros(0)]) == (0.0, 0.0)
