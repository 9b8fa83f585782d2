# Copyright (c) mmps contributors. All rights reserved.
"""Post-processing of person detections, as torchvision's RoI heads do it.

NAE and SeqNet keep a detection when its score exceeds ``score_thr``, drop
boxes narrower or lower than ``min_bbox_size`` (torchvision's
``remove_small_boxes``, 0.01 px), then run NMS and keep the
``max_per_img`` best. mmdet's ``multiclass_nms`` has no size filter, and a
box clipped to nothing at the image border would survive its NMS; nor does
it order equal scores as torchvision does (:func:`stable_nms`).
"""
from typing import Optional

import torch
from mmcv.ops import batched_nms
from mmdet.utils import ConfigType
from torch import Tensor


def filter_person_detections(bboxes: Tensor, scores: Tensor,
                             cfg: ConfigType) -> Tensor:
    """Indices of the detections kept, by decreasing score.

    Args:
        bboxes (Tensor): Boxes ``x1, y1, x2, y2`` of one image, (n, 4).
        scores (Tensor): Their person scores, (n, ).
        cfg (dict): ``score_thr`` (kept: score > score_thr),
            ``min_bbox_size`` (kept: width and height >= it; default 0),
            ``nms`` (mmcv NMS config, e.g. ``dict(type='nms',
            iou_threshold=0.5)``) and ``max_per_img``.

    Returns:
        Tensor: Indices into ``bboxes`` of the kept detections, (k, ).
    """
    widths = bboxes[:, 2] - bboxes[:, 0]
    heights = bboxes[:, 3] - bboxes[:, 1]
    min_size = cfg.get('min_bbox_size', 0)
    candidates = ((scores > cfg['score_thr']) & (widths >= min_size) &
                  (heights >= min_size)).nonzero().view(-1)
    if candidates.numel() == 0:
        return candidates
    keep = stable_nms(bboxes[candidates], scores[candidates], cfg['nms'])
    return candidates[keep[:cfg['max_per_img']]]


def stable_nms(bboxes: Tensor,
               scores: Tensor,
               nms_cfg: ConfigType,
               groups: Optional[Tensor] = None) -> Tensor:
    """Greedy NMS in the order of a stable sort by decreasing score.

    Equal scores are common for a trained model (a confident person scores
    exactly 1.0 in float32). torchvision's NMS sorts stably, so ties keep
    the order of the input (for SeqNet, the order of the proposals); mmcv's
    sort does not. Running mmcv's NMS on the ranks of a stable sort gives
    torchvision's result.

    Args:
        bboxes (Tensor): Boxes ``x1, y1, x2, y2``, (n, 4).
        scores (Tensor): Their scores, (n, ).
        nms_cfg (dict): mmcv NMS config, e.g. ``dict(type='nms',
            iou_threshold=0.5)``.
        groups (Tensor, optional): Group of each box (e.g. its feature
            level), (n, ); NMS runs within each group. Defaults to one
            group.

    Returns:
        Tensor: Indices into ``bboxes`` of the kept boxes, best first.
    """
    order = torch.sort(scores, descending=True, stable=True).indices
    ranks = torch.arange(
        len(order), 0, -1, dtype=bboxes.dtype, device=bboxes.device)
    groups = order.new_zeros(len(order)) if groups is None else groups[order]
    _, keep = batched_nms(bboxes[order], ranks, groups, nms_cfg)
    return order[keep]
