# Copyright (c) mmps contributors. All rights reserved.
from typing import List

import torch
from mmdet.models.dense_heads import RPNHead
from mmdet.structures.bbox import get_box_wh, scale_boxes
from mmdet.utils import ConfigType
from mmengine.structures import InstanceData
from torch import Tensor

from mmps.registry import MODELS
from ..roi_heads.person_detections import stable_nms


@MODELS.register_module()
class TorchvisionRPNHead(RPNHead):
    """RPN head that selects proposals as torchvision's RPN does.

    mmdet's ``RPNHead`` ranks anchors by sigmoid score and runs mmcv's NMS,
    whose sort is not stable. A trained RPN saturates the sigmoid (every
    logit above about 17 gives exactly 1.0 in float32), and then the order
    of the tied anchors, and so which of two overlapping ones survives,
    differs from torchvision's, which ranks by logit (``topk``) and runs a
    stable NMS. This head ranks by logit and keeps that order through NMS
    (:func:`stable_nms`); boxes are kept when their width and height reach
    ``min_bbox_size`` (torchvision's ``remove_small_boxes``), and the
    reported scores are the sigmoids. The layers and losses are mmdet's.
    """

    def _predict_by_feat_single(self,
                                cls_score_list: List[Tensor],
                                bbox_pred_list: List[Tensor],
                                score_factor_list: List[Tensor],
                                mlvl_priors: List[Tensor],
                                img_meta: dict,
                                cfg: ConfigType,
                                rescale: bool = False,
                                with_nms: bool = True) -> InstanceData:
        """Proposals of one image.

        Args:
            cls_score_list (list[Tensor]): Logits of each level,
                (num_priors, H, W).
            bbox_pred_list (list[Tensor]): Deltas of each level,
                (num_priors * 4, H, W).
            score_factor_list (list[Tensor]): Unused.
            mlvl_priors (list[Tensor]): Anchors of each level, (n_l, 4).
            img_meta (dict): Meta information of the image.
            cfg (ConfigDict): ``nms_pre`` (per level), ``min_bbox_size``,
                ``nms`` and ``max_per_img``.
            rescale (bool): Whether to return boxes in the original image
                space. Defaults to False.
            with_nms (bool): Must be True.

        Returns:
            :obj:`InstanceData`: ``bboxes`` (n, 4), ``scores`` (n, ) and
            ``labels`` (n, ), best first.
        """
        assert with_nms, '`with_nms` must be True in RPNHead'
        cfg = self.test_cfg if cfg is None else cfg
        nms_pre = cfg.get('nms_pre', -1)
        logits, deltas, priors, levels = [], [], [], []
        for level, (cls_score, bbox_pred, anchors) in enumerate(
                zip(cls_score_list, bbox_pred_list, mlvl_priors)):
            level_logits = cls_score.permute(1, 2, 0).reshape(-1)
            level_deltas = bbox_pred.permute(1, 2, 0).reshape(
                -1, self.bbox_coder.encode_size)
            if 0 < nms_pre < level_logits.numel():
                level_logits, top = level_logits.topk(nms_pre)
                level_deltas, anchors = level_deltas[top], anchors[top]
            logits.append(level_logits)
            deltas.append(level_deltas)
            priors.append(anchors)
            levels.append(
                torch.full_like(level_logits, level, dtype=torch.long))
        bboxes = self.bbox_coder.decode(
            torch.cat(priors),
            torch.cat(deltas),
            max_shape=img_meta['img_shape'])
        logits, levels = torch.cat(logits), torch.cat(levels)
        widths, heights = get_box_wh(bboxes)
        min_size = cfg.get('min_bbox_size', -1)
        if min_size >= 0:
            valid = (widths >= min_size) & (heights >= min_size)
            bboxes, logits, levels = bboxes[valid], logits[valid], levels[
                valid]
        keep = stable_nms(bboxes, logits, cfg.nms, levels)[:cfg.max_per_img]
        results = InstanceData(
            bboxes=bboxes[keep],
            scores=logits[keep].sigmoid(),
            labels=levels.new_zeros(len(keep)))
        if rescale:
            results.bboxes = scale_boxes(
                results.bboxes, [1 / s for s in img_meta['scale_factor']])
        return results
