# Copyright (c) mmps contributors. All rights reserved.
"""mmdet's parts, configured as NAE and SeqNet configure them, against
torchvision's algorithms written out here (torchvision's compiled ops do
not load beside mmps' torch): box coding, RoIAlign and the RPN's proposal
selection."""
import math

import pytest
import torch
from mmengine.config import Config, ConfigDict

from mmps.registry import MODELS, TASK_UTILS
from mmps.testing import get_config_file

NAE = Config.fromfile(get_config_file('_base_/models/nae_r50-c4.py')).model


def torchvision_decode(deltas, boxes, weights, clip=math.log(1000. / 16)):
    """torchvision's BoxCoder.decode_single, one box at a time."""
    out = []
    for (dx, dy, dw, dh), (x1, y1, x2, y2) in zip(deltas.tolist(),
                                                  boxes.tolist()):
        w, h = x2 - x1, y2 - y1
        cx, cy = x1 + 0.5 * w, y1 + 0.5 * h
        dx, dy = dx / weights[0], dy / weights[1]
        dw, dh = min(dw / weights[2], clip), min(dh / weights[3], clip)
        pcx, pcy = dx * w + cx, dy * h + cy
        pw, ph = math.exp(dw) * w, math.exp(dh) * h
        out.append(
            [pcx - 0.5 * pw, pcy - 0.5 * ph, pcx + 0.5 * pw, pcy + 0.5 * ph])
    return torch.tensor(out)


def test_box_coders_are_torchvisions():
    generator = torch.Generator().manual_seed(0)
    xy = torch.rand(50, 2, generator=generator) * 300
    boxes = torch.cat(
        [xy, xy + 10 + torch.rand(50, 2, generator=generator) * 200], 1)
    deltas = torch.randn(50, 4, generator=generator)
    for coder_cfg, weights in [
        (NAE.rpn_head.bbox_coder, (1., 1., 1., 1.)),
        (NAE.roi_head.bbox_head.bbox_coder, (10., 10., 5., 5.)),
    ]:
        coder = TASK_UTILS.build(coder_cfg)
        torch.testing.assert_close(
            coder.decode(boxes, deltas),
            torchvision_decode(deltas, boxes, weights),
            atol=1e-3,
            rtol=1e-5)


def torchvision_roi_align(feature, box, scale, size, ratio):
    """torchvision's roi_align with aligned=False, one bin at a time."""
    channels, height, width = feature.shape
    x1, y1, x2, y2 = [v * scale for v in box]
    roi_w, roi_h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    bin_w, bin_h = roi_w / size, roi_h / size

    def bilinear(y, x):
        if y < -1.0 or y > height or x < -1.0 or x > width:
            return torch.zeros(channels)
        y, x = max(y, 0.0), max(x, 0.0)
        y0, x0 = int(y), int(x)
        if y0 >= height - 1:
            y0 = y1_ = height - 1
            y = float(y0)
        else:
            y1_ = y0 + 1
        if x0 >= width - 1:
            x0 = x1_ = width - 1
            x = float(x0)
        else:
            x1_ = x0 + 1
        ly, lx = y - y0, x - x0
        return ((1 - ly) * (1 - lx) * feature[:, y0, x0] +
                (1 - ly) * lx * feature[:, y0, x1_] + ly *
                (1 - lx) * feature[:, y1_, x0] +
                ly * lx * feature[:, y1_, x1_])

    out = torch.zeros(channels, size, size)
    for i in range(size):
        for j in range(size):
            total = torch.zeros(channels)
            for iy in range(ratio):
                for ix in range(ratio):
                    y = y1 + i * bin_h + (iy + 0.5) * bin_h / ratio
                    x = x1 + j * bin_w + (ix + 0.5) * bin_w / ratio
                    total += bilinear(y, x)
            out[:, i, j] = total / ratio**2
    return out


def test_roi_align_is_torchvisions():
    extractor = MODELS.build(
        dict(NAE.roi_head.bbox_roi_extractor, out_channels=3))
    generator = torch.Generator().manual_seed(1)
    feature = torch.randn(1, 3, 12, 15, generator=generator)
    boxes = [[10., 20., 120., 150.], [0., 0., 8., 6.],
             [200., 100., 250., 199.]]
    rois = torch.tensor([[0.] + box for box in boxes])
    pooled = extractor((feature, ), rois)
    assert pooled.shape == (3, 3, 14, 14)
    for k, box in enumerate(boxes):
        torch.testing.assert_close(
            pooled[k],
            torchvision_roi_align(feature[0], box, 1 / 16, 14, 2),
            atol=1e-5,
            rtol=1e-4)


def torchvision_proposals(logits, deltas, anchors, image_shape, pre_nms,
                          iou_thr, post_nms, min_size):
    """torchvision's RPN filter_proposals for one level, one box at a time:
    the pre_nms highest logits, decoded and clipped, boxes under min_size
    dropped, greedy NMS on the sigmoid scores, the post_nms best."""
    order = sorted(range(len(logits)), key=lambda i: -logits[i])[:pre_nms]
    boxes = torchvision_decode(deltas[order], anchors[order], (1., 1., 1., 1.))
    height, width = image_shape
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, width)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, height)
    scores = torch.sigmoid(logits[order])
    candidates = [
        i for i in range(len(order)) if boxes[i, 2] -
        boxes[i, 0] >= min_size and boxes[i, 3] - boxes[i, 1] >= min_size
    ]
    candidates.sort(key=lambda i: -float(scores[i]))

    def iou(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = w * h
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) *
                        (b[3] - b[1]) - inter)

    kept = []
    for i in candidates:
        if all(
                iou(boxes[i].tolist(), boxes[j].tolist()) <= iou_thr
                for j in kept):
            kept.append(i)
    kept = kept[:post_nms]
    return boxes[kept], scores[kept]


@pytest.mark.parametrize('logit_scale', [3.0, 100.0])
def test_rpn_proposals_are_torchvisions(logit_scale):
    """At scale 100 most sigmoids are exactly 1.0: the logits decide the
    order, as torchvision's topk and stable NMS keep it."""
    rpn_head = MODELS.build(
        dict(
            NAE.rpn_head,
            in_channels=8,
            feat_channels=8,
            test_cfg=ConfigDict(
                nms_pre=60,
                max_per_img=15,
                nms=dict(type='nms', iou_threshold=0.7),
                min_bbox_size=1e-3)))
    generator = torch.Generator().manual_seed(2)
    height, width = 5, 7
    num_anchors = 15
    cls_score = torch.randn(
        num_anchors, height, width, generator=generator) * logit_scale
    bbox_pred = torch.randn(
        num_anchors * 4, height, width, generator=generator) * 0.3
    anchors = rpn_head.prior_generator.grid_priors([(height, width)],
                                                   device='cpu')[0]
    image_shape = (70, 100)
    results = rpn_head._predict_by_feat_single([cls_score], [bbox_pred],
                                               [None], [anchors],
                                               dict(img_shape=image_shape),
                                               rpn_head.test_cfg)
    # torchvision's layout: anchors of a cell together, cells row by row
    logits = cls_score.permute(1, 2, 0).reshape(-1)
    deltas = bbox_pred.permute(1, 2, 0).reshape(-1, 4)
    boxes, scores = torchvision_proposals(logits, deltas, anchors, image_shape,
                                          60, 0.7, 15, 1e-3)
    assert len(results) == len(boxes) == 15
    torch.testing.assert_close(results.bboxes, boxes, atol=1e-3, rtol=0)
    torch.testing.assert_close(results.scores, scores)
    if logit_scale > 10:
        assert (results.scores == 1.0).sum() > 5
