# Copyright (c) mmps contributors. All rights reserved.
import math

import pytest
import torch

from mmps.registry import TASK_UTILS


def torchvision_anchors(sizes, ratios, stride, height, width):
    """torchvision's AnchorGenerator, one anchor at a time: for each cell
    (row by row) and each ratio (outer) and size (inner), the box of that
    size and height / width ratio with corners rounded, on the cell's
    top-left corner."""
    anchors = []
    for y in range(height):
        for x in range(width):
            for ratio in ratios:
                for size in sizes:
                    h_ratio = math.sqrt(ratio)
                    w = size / h_ratio
                    h = size * h_ratio
                    base = [
                        round(-w / 2),
                        round(-h / 2),
                        round(w / 2),
                        round(h / 2)
                    ]
                    anchors.append([
                        base[0] + x * stride, base[1] + y * stride,
                        base[2] + x * stride, base[3] + y * stride
                    ])
    return torch.tensor(anchors, dtype=torch.float32)


def test_anchors_match_torchvision():
    generator = TASK_UTILS.build(
        dict(
            type='TorchvisionAnchorGenerator',
            strides=[16],
            ratios=[0.5, 1.0, 2.0],
            scales=[2, 4, 8, 16, 32]))
    anchors = generator.grid_priors([(3, 4)], device='cpu')[0]
    expected = torchvision_anchors([32, 64, 128, 256, 512], [0.5, 1.0, 2.0],
                                   16, 3, 4)
    torch.testing.assert_close(anchors, expected, rtol=0, atol=1e-4)
    # a ratio-0.5 anchor of 32 px: 45.25 x 22.6 before rounding
    assert anchors[0].tolist() == [-23, -11, 23, 11]
    # mmdet's AnchorGenerator does not round
    plain = TASK_UTILS.build(
        dict(
            type='AnchorGenerator',
            strides=[16],
            ratios=[0.5, 1.0, 2.0],
            scales=[2, 4, 8, 16, 32])).grid_priors([(3, 4)], device='cpu')[0]
    assert not torch.allclose(plain, expected)


def test_center_offset_is_refused():
    with pytest.raises(ValueError, match='center_offset'):
        TASK_UTILS.build(
            dict(
                type='TorchvisionAnchorGenerator',
                strides=[16],
                ratios=[1.0],
                scales=[8],
                center_offset=0.5))
