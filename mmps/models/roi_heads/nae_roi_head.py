# Copyright (c) mmps contributors. All rights reserved.
from typing import List, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.utils import unpack_gt_instances
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi, scale_boxes
from mmdet.utils import ConfigType, InstanceList
from mmengine.structures import InstanceData
from torch import Tensor

from mmps.registry import MODELS
from .person_detections import filter_person_detections
from .person_search_roi_head import PersonSearchRoIHead


def global_max_pool(x: Tensor) -> Tensor:
    """Max over the spatial positions of RoI features, (N, C, H, W) -> (N, C).
    """
    return F.adaptive_max_pool2d(x, 1).flatten(1)


@MODELS.register_module()
class NAERoIHead(PersonSearchRoIHead):
    """RoI head of NAE: box regression beside a norm-aware embedding.

    From `Norm-Aware Embedding for Efficient Person Search
    <https://arxiv.org/abs/2003.12186>`_ (Chen et al., CVPR 2020). The RoI
    features (RoIAlign on res4) go through the shared head (res5); both are
    max-pooled. The box head regresses boxes from the pooled res5 features
    (mmdet's ``BBoxHead`` with ``with_cls=False``, optionally with a BN neck,
    :class:`LinearBN`); the :class:`NormAwareEmbeddingHead` embeds the
    pooled features, and the norm of its embedding is the person score.
    There is no separate classifier.

    At test time the proposals are scored, regressed and embedded in one
    pass; the embeddings travel with their boxes through NMS
    (:func:`filter_person_detections`), as in NAE's code. The embedding of
    a detection thus describes its proposal, not the regressed box.

    Args:
        embedding_head (dict): Config of the :class:`NormAwareEmbeddingHead`.
        **kwargs: Arguments of :class:`mmdet.models.StandardRoIHead`;
            ``test_cfg`` holds ``score_thr``, ``min_bbox_size``, ``nms`` and
            ``max_per_img`` of :func:`filter_person_detections`.
    """

    def pooled_features(self, x: Tuple[Tensor], rois: Tensor) -> List[Tensor]:
        """Max-pooled RoI features before and after the shared head.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            rois (Tensor): RoIs, shape (n, 5).

        Returns:
            list[Tensor]: Pooled RoIAlign features (n, C4) and pooled shared
            head features (n, C5).
        """
        return [global_max_pool(f) for f in self.roi_features(x, rois)]

    def _embed(self, pooled: List[Tensor]) -> Tuple[Tensor, Tensor]:
        """Embeddings and person logits of pooled features (the last
        ``embedding_head.num_inputs`` of them)."""
        return self.embedding_head(pooled[-self.embedding_head.num_inputs:])

    def _bbox_forward(self, x: Tuple[Tensor], rois: Tensor) -> dict:
        """Box regression, person logits and embeddings of RoIs.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            rois (Tensor): RoIs, shape (n, 5).

        Returns:
            dict[str, Tensor]: ``cls_score`` (person logits, (n, )),
            ``bbox_pred`` ((n, 4)) and ``embeddings`` ((n, D)).
        """
        pooled = self.pooled_features(x, rois)
        _, bbox_pred = self.bbox_head(pooled[-1])
        embeddings, cls_score = self._embed(pooled)
        return dict(
            cls_score=cls_score, bbox_pred=bbox_pred, embeddings=embeddings)

    def loss(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
             batch_data_samples: SampleList) -> dict:
        """Box regression, norm and re-identification losses.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            rpn_results_list (list[:obj:`InstanceData`]): Proposals.
            batch_data_samples (list[:obj:`DetDataSample`]): Samples with
                ``gt_instances`` (``bboxes``, ``labels``, ``person_ids``).

        Returns:
            dict[str, Tensor]: ``loss_bbox``, ``loss_cls`` (the norm's) and
            ``loss_reid``.
        """
        batch_gt_instances, batch_gt_instances_ignore, _ = \
            unpack_gt_instances(batch_data_samples)
        sampling_results = self.assign_and_sample(x, rpn_results_list,
                                                  batch_gt_instances,
                                                  batch_gt_instances_ignore)
        return self.sampled_losses(x, sampling_results, batch_gt_instances)

    def sampled_losses(self, x: Tuple[Tensor], sampling_results: list,
                       batch_gt_instances: InstanceList) -> dict:
        """The losses of sampled RoIs.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            sampling_results (list[:obj:`SamplingResult`]): Sampled RoIs.
            batch_gt_instances (list[:obj:`InstanceData`]): Ground truth.

        Returns:
            dict[str, Tensor]: ``loss_bbox``, ``loss_cls``, ``loss_reid``.
        """
        rois = bbox2roi([res.priors for res in sampling_results])
        results = self._bbox_forward(x, rois)
        losses = self.bbox_head.loss_and_target(
            cls_score=None,
            bbox_pred=results['bbox_pred'],
            rois=rois,
            sampling_results=sampling_results,
            rcnn_train_cfg=self.train_cfg)['loss_bbox']
        losses.update(
            self.embedding_head.loss_and_target(
                results['embeddings'], sampling_results, batch_gt_instances,
                results['cls_score'])['loss_reid'])
        return losses

    def embed_rois(self, x: Tuple[Tensor], rois: Tensor) -> Tensor:
        """Embeddings of RoIs (query mode): the norm-aware head's directions.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            rois (Tensor): RoIs, shape (n, 5), n > 0.

        Returns:
            Tensor: Unit-norm embeddings, shape (n, D).
        """
        embeddings, _ = self._embed(self.pooled_features(x, rois))
        return embeddings

    @staticmethod
    def decode_boxes(bbox_coder, rois: Tensor, bbox_pred: Tensor,
                     batch_img_metas: List[dict]) -> List[Tensor]:
        """Regressed boxes of each image, clipped to it.

        Args:
            bbox_coder: The box head's coder.
            rois (Tensor): RoIs, shape (n, 5), grouped by image.
            bbox_pred (Tensor): Their regression, shape (n, 4).
            batch_img_metas (list[dict]): Meta information of each image.

        Returns:
            list[Tensor]: Boxes of each image, each (n_i, 4).
        """
        counts = torch.bincount(
            rois[:, 0].long(), minlength=len(batch_img_metas)).tolist()
        return [
            bbox_coder.decode(
                boxes[:, 1:], deltas, max_shape=meta['img_shape'])
            for boxes, deltas, meta in zip(
                rois.split(counts), bbox_pred.split(counts), batch_img_metas)
        ]

    def predict_bbox(self,
                     x: Tuple[Tensor],
                     batch_img_metas: List[dict],
                     rpn_results_list: InstanceList,
                     rcnn_test_cfg: ConfigType,
                     rescale: bool = False) -> InstanceList:
        """Detect persons among the proposals and embed them in one pass.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            batch_img_metas (list[dict]): Meta information of each image.
            rpn_results_list (list[:obj:`InstanceData`]): Proposals.
            rcnn_test_cfg (ConfigDict): See :func:`filter_person_detections`.
            rescale (bool): Whether to return boxes in the original image
                space. Defaults to False.

        Returns:
            list[:obj:`InstanceData`]: Detections of each image: ``bboxes``
            (n, 4), ``scores`` (n, ), ``labels`` (n, ), ``embeddings``
            (n, D).
        """
        rois = bbox2roi([res.bboxes for res in rpn_results_list])
        if rois.shape[0] == 0:
            return [
                self._detections(
                    rois.new_zeros(0, 4), rois.new_zeros(0),
                    rois.new_zeros(0, self.embedding_head.embed_channels),
                    meta, rescale) for meta in batch_img_metas
            ]
        results = self._bbox_forward(x, rois)
        counts = [len(res) for res in rpn_results_list]
        results_list = []
        for boxes, scores, embeddings, meta in zip(
                self.decode_boxes(self.bbox_head.bbox_coder, rois,
                                  results['bbox_pred'], batch_img_metas),
                results['cls_score'].sigmoid().split(counts),
                results['embeddings'].split(counts), batch_img_metas):
            keep = filter_person_detections(boxes, scores, rcnn_test_cfg)
            results_list.append(
                self._detections(boxes[keep], scores[keep], embeddings[keep],
                                 meta, rescale))
        return results_list

    @staticmethod
    def _detections(bboxes: Tensor, scores: Tensor, embeddings: Tensor,
                    img_meta: dict, rescale: bool) -> InstanceData:
        """Detections of one image as ``InstanceData`` (label 0)."""
        if rescale:
            bboxes = scale_boxes(bboxes,
                                 [1 / s for s in img_meta['scale_factor']])
        return InstanceData(
            bboxes=bboxes,
            scores=scores,
            labels=scores.new_zeros(len(scores), dtype=torch.long),
            embeddings=embeddings)
