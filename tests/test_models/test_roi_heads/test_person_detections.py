# Copyright (c) mmps contributors. All rights reserved.
import pytest
import torch

from mmps.models.roi_heads import filter_person_detections


def slow_reference(boxes, scores, score_thr, min_size, iou_thr, max_num):
    """torchvision's post-processing, one box at a time: score above the
    threshold, width and height at least min_size, greedy NMS by
    decreasing score, the max_num best."""
    candidates = [
        i for i in range(len(boxes)) if scores[i] > score_thr and boxes[i][2] -
        boxes[i][0] >= min_size and boxes[i][3] - boxes[i][1] >= min_size
    ]
    # Python's sort is stable: equal scores keep their input order, as in
    # torchvision's NMS
    candidates.sort(key=lambda i: -scores[i])

    def iou(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = w * h
        union = ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) *
                 (b[3] - b[1]) - inter)
        return inter / union if union > 0 else 0.0

    kept = []
    for i in candidates:
        if all(iou(boxes[i], boxes[j]) <= iou_thr for j in kept):
            kept.append(i)
    return kept[:max_num]


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matches_torchvision_postprocessing(seed):
    generator = torch.Generator().manual_seed(seed)
    xy = torch.rand(60, 2, generator=generator) * 100
    wh = torch.rand(60, 2, generator=generator) * 40
    boxes = torch.cat([xy, xy + wh], 1)
    # some boxes clipped to nothing at the border
    boxes[:5, 2] = boxes[:5, 0] + 0.005
    scores = torch.rand(60, generator=generator)
    cfg = dict(
        score_thr=0.3,
        min_bbox_size=0.01,
        nms=dict(type='nms', iou_threshold=0.4),
        max_per_img=12)
    keep = filter_person_detections(boxes, scores, cfg)
    expected = slow_reference(boxes.tolist(), scores.tolist(), 0.3, 0.01, 0.4,
                              12)
    assert keep.tolist() == expected
    assert len(expected) == 12
    assert not set(range(5)) & set(expected)


def test_nothing_above_the_threshold():
    keep = filter_person_detections(
        torch.tensor([[0., 0., 10., 10.]]), torch.tensor([0.5]),
        dict(
            score_thr=0.5,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=10))
    assert keep.numel() == 0


def test_equal_scores_keep_their_order():
    """A trained model scores confident persons exactly 1.0: of two
    overlapping boxes with equal scores, the first one given survives."""
    generator = torch.Generator().manual_seed(3)
    xy = torch.rand(40, 2, generator=generator) * 60
    boxes = torch.cat([xy, xy + 30], 1)
    scores = torch.ones(40)
    scores[::3] = 0.9
    cfg = dict(
        score_thr=0.5, nms=dict(type='nms', iou_threshold=0.3), max_per_img=40)
    keep = filter_person_detections(boxes, scores, cfg)
    assert keep.tolist() == slow_reference(boxes.tolist(), scores.tolist(),
                                           0.5, 0, 0.3, 40)
    # the reverse input order keeps other boxes: the order decides
    reverse = torch.arange(39, -1, -1)
    kept_reversed = reverse[filter_person_detections(boxes[reverse],
                                                     scores[reverse], cfg)]
    assert set(kept_reversed.tolist()) != set(keep.tolist())
