# Copyright (c) mmps contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.structures.bbox import HorizontalBoxes

from mmps.datasets.transforms import (TorchvisionResize,
                                      torchvision_resize_shape)
from mmps.registry import TRANSFORMS


def bilinear(image, new_h, new_w):
    """Bilinear resize with half-pixel centres (align_corners=False), one
    output pixel at a time, as F.interpolate computes it."""
    h, w = image.shape[:2]
    out = np.zeros((new_h, new_w) + image.shape[2:])
    for i in range(new_h):
        for j in range(new_w):
            y = max((i + 0.5) * h / new_h - 0.5, 0)
            x = max((j + 0.5) * w / new_w - 0.5, 0)
            y0, x0 = min(int(y), h - 1), min(int(x), w - 1)
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            dy, dx = y - y0, x - x0
            out[i, j] = ((1 - dy) * (1 - dx) * image[y0, x0] +
                         (1 - dy) * dx * image[y0, x1] + dy *
                         (1 - dx) * image[y1, x0] + dy * dx * image[y1, x1])
    return out


@pytest.mark.parametrize('height,width,expected', [
    (480, 640, (900, 1200)),
    (375, 1100, (511, 1500)),
    (301, 299, (906, 900)),
    (1000, 700, (1285, 900)),
])
def test_output_size_rounds_down(height, width, expected):
    assert torchvision_resize_shape(height, width, 900, 1500) == expected
    scale = min(900 / min(height, width), 1500 / max(height, width))
    assert expected == (math.floor(height * scale), math.floor(width * scale))


def test_mmdet_resize_gives_another_size():
    # 1000 x 700: 1285.71 rows; torchvision rounds down, mmdet's Resize to
    # the nearest pixel: the reason for this transform
    image = np.zeros((1000, 700, 3), np.uint8)
    mmdet_resize = TRANSFORMS.build(
        dict(type='mmdet.Resize', scale=(1500, 900), keep_ratio=True))
    assert mmdet_resize(dict(img=image))['img_shape'] == (1286, 900)
    ours = TRANSFORMS.build(
        dict(type='TorchvisionResize', min_size=900, max_size=1500))
    assert ours(dict(img=image))['img_shape'] == (1285, 900)


def test_pixels_and_boxes():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (7, 11, 3)).astype(np.uint8)
    transform = TRANSFORMS.build(
        dict(type='TorchvisionResize', min_size=10, max_size=30))
    results = transform(
        dict(
            img=image,
            gt_bboxes=HorizontalBoxes(
                np.array([[1., 2., 5., 6.]], np.float32))))
    new_h, new_w = torchvision_resize_shape(7, 11, 10, 30)
    assert (new_h, new_w) == (10, 15)
    assert results['img'].dtype == np.float32
    assert results['img'].shape == (10, 15, 3)
    assert results['img_shape'] == (10, 15)
    np.testing.assert_allclose(
        results['img'], bilinear(image.astype(np.float64), 10, 15), atol=1e-3)
    sx, sy = results['scale_factor']
    assert (sx, sy) == (15 / 11, 10 / 7)
    np.testing.assert_allclose(
        results['gt_bboxes'].numpy(), [[1 * sx, 2 * sy, 5 * sx, 6 * sy]],
        rtol=1e-6)


def test_normalises_first_as_torchvision_does():
    """to_tensor (/255), (x - mean) / std, then interpolate: torchvision's
    GeneralizedRCNNTransform, the same operations in the same order."""
    rng = np.random.default_rng(1)
    bgr = rng.integers(0, 256, (9, 13, 3)).astype(np.uint8)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    transform = TRANSFORMS.build(
        dict(
            type='TorchvisionResize',
            min_size=12,
            max_size=40,
            mean=mean,
            std=std,
            to_rgb=True))
    out = transform(dict(img=bgr))['img']
    rgb = torch.from_numpy(bgr[..., ::-1].copy()).permute(2, 0, 1).float()
    normalised = (rgb.div(255) - torch.tensor(mean)[:, None, None]) / \
        torch.tensor(std)[:, None, None]
    expected = F.interpolate(
        normalised[None],
        size=torchvision_resize_shape(9, 13, 12, 40),
        mode='bilinear',
        align_corners=False)[0].permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(out, expected)
    # normalising after resizing is another computation: not bit-equal
    later = (bilinear(bgr[..., ::-1].astype(np.float64) / 255, *out.shape[:2])
             - mean) / std
    np.testing.assert_allclose(out, later, atol=1e-5)
    with pytest.raises(ValueError, match='mean and std together'):
        TorchvisionResize(mean=mean)


def test_repr():
    assert repr(TorchvisionResize(900, 1500)) == \
        'TorchvisionResize(min_size=900, max_size=1500, to_rgb=False)'
