# Copyright (c) mmps contributors. All rights reserved.
from typing import List, Tuple

import torch
from mmdet.models.utils import unpack_gt_instances
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi, get_box_tensor, scale_boxes
from mmdet.utils import ConfigType, InstanceList
from mmengine.structures import InstanceData
from torch import Tensor

from mmps.registry import MODELS
from .nae_roi_head import NAERoIHead, global_max_pool
from .person_detections import filter_person_detections


def _proposal_name(name: str) -> str:
    """Name of a stage-1 loss or metric: ``loss_cls`` ->
    ``loss_proposal_cls``, ``acc`` -> ``proposal_acc``."""
    if name.startswith('loss_'):
        return 'loss_proposal_' + name[len('loss_'):]
    return 'proposal_' + name


@MODELS.register_module()
class SeqNetRoIHead(NAERoIHead):
    """SeqNet's sequential RoI head: a Faster R-CNN head, then an NAE head.

    From `Sequential End-to-end Network for Efficient Person Search
    <https://arxiv.org/abs/2103.10148>`_ (Li and Miao, AAAI 2021).

    - Stage 1 (``proposal_shared_head``, ``proposal_bbox_head``): a Faster
      R-CNN head on the proposals: RoIAlign, its own res5, max pooling,
      person/background softmax and box regression (mmdet's ``BBoxHead``).
    - Stage 2 (the :class:`NAERoIHead` modules ``shared_head``,
      ``bbox_head``, ``embedding_head``): the stage-1 boxes are pooled again
      through a second res5 and regressed once more beside the norm-aware
      embedding.

    Training: stage 1 is trained on proposals sampled as in Faster R-CNN;
    its regressed boxes (detached) are sampled again, with the ground truth
    added, for stage 2, whose losses are NAE's (box regression, the norm's
    person/background loss, OIM). Losses of stage 1 are prefixed
    ``proposal``.

    Test: stage-1 detections (``test_cfg.proposal``: score, size filter,
    NMS) go through stage 2, which regresses them and embeds them (the
    embedding describes the stage-1 box). Their score stays the stage-1
    score (SeqNet's First Classification Score), and a second NMS
    (``test_cfg``, 0.5 in SeqNet) removes the duplicates refinement makes.
    SeqNet's Confidence Weighted Similarity multiplies the gallery
    embeddings by that score; mmps keeps unit embeddings in its predictions
    and applies CWS in the metric and in ``PersonSearcher`` (``cws=True``).

    With ``test_cfg.query_context=True``, query images are also searched
    in gallery mode with the query box forced among the detections
    (score 1, before the stage-2 NMS), as SeqNet's evaluation does for
    CBGM: the detector stores those persons in ``context_instances`` of
    each query sample, the query box first.

    Args:
        proposal_shared_head (dict): Config of stage 1's res5.
        proposal_bbox_head (dict): Config of stage 1's box head.
        **kwargs: Arguments of :class:`NAERoIHead` (stage 2).
    """

    def __init__(self, proposal_shared_head: ConfigType,
                 proposal_bbox_head: ConfigType, **kwargs) -> None:
        super().__init__(**kwargs)
        self.proposal_shared_head = MODELS.build(proposal_shared_head)
        self.proposal_bbox_head = MODELS.build(proposal_bbox_head)

    @property
    def with_query_context(self) -> bool:
        """Whether query samples also get SeqNet's CBGM context."""
        return bool(self.test_cfg and self.test_cfg.get('query_context'))

    def _proposal_forward(self, x: Tuple[Tensor], rois: Tensor) -> dict:
        """Stage 1: classification and regression of RoIs.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            rois (Tensor): RoIs, shape (n, 5).

        Returns:
            dict[str, Tensor]: ``cls_score`` (n, 2) and ``bbox_pred`` (n, 4).
        """
        roi_feats = self.bbox_roi_extractor(
            x[:self.bbox_roi_extractor.num_inputs], rois)
        cls_score, bbox_pred = self.proposal_bbox_head(
            global_max_pool(self.proposal_shared_head(roi_feats)))
        return dict(cls_score=cls_score, bbox_pred=bbox_pred)

    def loss(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
             batch_data_samples: SampleList) -> dict:
        """Losses of both stages.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            rpn_results_list (list[:obj:`InstanceData`]): Proposals.
            batch_data_samples (list[:obj:`DetDataSample`]): Samples with
                ``gt_instances`` (``bboxes``, ``labels``, ``person_ids``).

        Returns:
            dict[str, Tensor]: ``loss_proposal_cls``, ``proposal_acc``,
            ``loss_proposal_bbox`` (stage 1), ``loss_bbox``, ``loss_cls``,
            ``loss_reid`` (stage 2).
        """
        batch_gt_instances, batch_gt_instances_ignore, _ = \
            unpack_gt_instances(batch_data_samples)
        sampling_results = self.assign_and_sample(x, rpn_results_list,
                                                  batch_gt_instances,
                                                  batch_gt_instances_ignore)
        rois = bbox2roi([res.priors for res in sampling_results])
        results = self._proposal_forward(x, rois)
        proposal_losses = self.proposal_bbox_head.loss_and_target(
            cls_score=results['cls_score'],
            bbox_pred=results['bbox_pred'],
            rois=rois,
            sampling_results=sampling_results,
            rcnn_train_cfg=self.train_cfg)['loss_bbox']
        losses = {
            _proposal_name(name): value
            for name, value in proposal_losses.items()
        }
        # stage 2 samples again among the regressed sampled proposals
        boxes = self.decode_boxes(
            self.proposal_bbox_head.bbox_coder, rois,
            results['bbox_pred'].detach(),
            [sample.metainfo for sample in batch_data_samples])
        refined = [InstanceData(bboxes=b) for b in boxes]
        sampling_results = self.assign_and_sample(x, refined,
                                                  batch_gt_instances,
                                                  batch_gt_instances_ignore)
        losses.update(
            self.sampled_losses(x, sampling_results, batch_gt_instances))
        return losses

    def predict_proposals(
            self, x: Tuple[Tensor], batch_img_metas: List[dict],
            rpn_results_list: InstanceList
    ) -> Tuple[List[Tensor], List[Tensor]]:
        """Stage-1 detections of each image.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            batch_img_metas (list[dict]): Meta information of each image.
            rpn_results_list (list[:obj:`InstanceData`]): Proposals.

        Returns:
            tuple[list[Tensor], list[Tensor]]: Boxes (n_i, 4) and scores
            (n_i, ) of each image, in network input coordinates.
        """
        rois = bbox2roi([res.bboxes for res in rpn_results_list])
        if rois.shape[0] == 0:
            return [rois.new_zeros(0, 4) for _ in batch_img_metas
                    ], [rois.new_zeros(0) for _ in batch_img_metas]
        results = self._proposal_forward(x, rois)
        # mmdet's softmax puts background last: column 0 is the person
        scores = results['cls_score'].softmax(-1)[:, 0]
        counts = [len(res) for res in rpn_results_list]
        batch_boxes, batch_scores = [], []
        for boxes, image_scores in zip(
                self.decode_boxes(self.proposal_bbox_head.bbox_coder, rois,
                                  results['bbox_pred'], batch_img_metas),
                scores.split(counts)):
            keep = filter_person_detections(boxes, image_scores,
                                            self.test_cfg.proposal)
            batch_boxes.append(boxes[keep])
            batch_scores.append(image_scores[keep])
        return batch_boxes, batch_scores

    def predict_bbox(self,
                     x: Tuple[Tensor],
                     batch_img_metas: List[dict],
                     rpn_results_list: InstanceList,
                     rcnn_test_cfg: ConfigType,
                     rescale: bool = False,
                     forced: List[Tensor] = None) -> InstanceList:
        """Detect persons in two stages and embed them (gallery mode).

        Args:
            x (tuple[Tensor]): Multi-level image features.
            batch_img_metas (list[dict]): Meta information of each image.
            rpn_results_list (list[:obj:`InstanceData`]): Proposals.
            rcnn_test_cfg (ConfigDict): Stage-2 post-processing, see
                :func:`filter_person_detections`; ``proposal`` holds
                stage 1's.
            rescale (bool): Whether to return boxes in the original image
                space. Defaults to False.
            forced (list[Tensor], optional): Boxes (in network input
                coordinates) to put among each image's detections with
                score 1, unrefined, before the stage-2 NMS: SeqNet's query
                context. Defaults to None.

        Returns:
            list[:obj:`InstanceData`]: Detections of each image: ``bboxes``
            (n, 4), ``scores`` (n, ), ``labels`` (n, ), ``embeddings``
            (n, D), by decreasing score.
        """
        batch_boxes, batch_scores = self.predict_proposals(
            x, batch_img_metas, rpn_results_list)
        if forced is None:
            forced = [boxes.new_zeros(0, 4) for boxes in batch_boxes]
        counts = [len(b) for b in batch_boxes]
        num_forced = [len(b) for b in forced]
        # one pass of stage 2 for the detections and the forced boxes
        rois = bbox2roi(
            [torch.cat([d, f]) for d, f in zip(batch_boxes, forced)])
        dim = self.embedding_head.embed_channels
        if rois.shape[0] == 0:
            return [
                self._detections(
                    rois.new_zeros(0, 4), rois.new_zeros(0),
                    rois.new_zeros(0, dim), meta, rescale)
                for meta in batch_img_metas
            ]
        pooled = self.pooled_features(x, rois)
        _, bbox_pred = self.bbox_head(pooled[-1])
        embeddings, _ = self._embed(pooled)
        refined = self.decode_boxes(self.bbox_head.bbox_coder, rois, bbox_pred,
                                    batch_img_metas)
        sizes = [c + f for c, f in zip(counts, num_forced)]
        results_list = []
        for i, (boxes, image_embeddings, meta) in enumerate(
                zip(refined, embeddings.split(sizes), batch_img_metas)):
            # forced boxes stay as given, with score 1
            boxes = torch.cat([boxes[:counts[i]], forced[i]])
            scores = torch.cat(
                [batch_scores[i], batch_scores[i].new_ones(num_forced[i])])
            keep = filter_person_detections(boxes, scores, rcnn_test_cfg)
            results_list.append(
                self._detections(boxes[keep], scores[keep],
                                 image_embeddings[keep], meta, rescale))
        return results_list

    def predict_query_context(self,
                              x: Tuple[Tensor],
                              rpn_results_list: InstanceList,
                              batch_data_samples: SampleList,
                              rescale: bool = True) -> InstanceList:
        """SeqNet's CBGM context of each query: the persons of its image.

        The query image is searched in gallery mode with the query box
        forced among the detections (score 1, unrefined), so the box (the
        most confident) suppresses the detections of the same person and
        comes first.

        Args:
            x (tuple[Tensor]): Multi-level features of the query images.
            rpn_results_list (list[:obj:`InstanceData`]): Their proposals.
            batch_data_samples (list[:obj:`DetDataSample`]): Query samples,
                one query box each in ``gt_instances.bboxes`` (original
                image coordinates).
            rescale (bool): Whether to return boxes in the original image
                space. Defaults to True.

        Returns:
            list[:obj:`InstanceData`]: The persons of each query image
            (``bboxes``, ``scores``, ``labels``, ``embeddings``), by
            decreasing score.
        """
        forced = []
        for sample in batch_data_samples:
            boxes = get_box_tensor(sample.gt_instances.bboxes)
            if len(boxes) != 1:
                raise ValueError(
                    f'{sample.metainfo.get("img_path")}: the query context '
                    f'needs one query box per query sample, got '
                    f'{len(boxes)}')
            forced.append(scale_boxes(boxes, sample.metainfo['scale_factor']))
        return self.predict_bbox(
            x, [sample.metainfo for sample in batch_data_samples],
            rpn_results_list,
            self.test_cfg,
            rescale=rescale,
            forced=forced)
