# Copyright (c) mmps contributors. All rights reserved.
from typing import List, Tuple

import torch.nn.functional as F
from mmdet.models.layers import multiclass_nms
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.models.utils import unpack_gt_instances
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi, get_box_tensor, scale_boxes
from mmdet.utils import ConfigType, InstanceList
from mmengine.structures import InstanceData
from torch import Tensor

from mmps.registry import MODELS

#: Which RoIs give the gallery embeddings at test time
#: (``test_cfg.rcnn.embedding_rois``).
EMBEDDING_ROIS = ('detections', 'proposals')


@MODELS.register_module()
class PersonSearchRoIHead(StandardRoIHead):
    """RoI head that detects persons and embeds them for re-identification.

    Beside mmdet's box head (person/background classification and box
    regression) it runs an embedding head on the same RoI features (after
    the shared head, e.g. ResNet conv5 for C4 models), trained with the
    embedding head's re-identification loss (OIM by default).

    At test time, by default (``test_cfg.rcnn.embedding_rois =
    'detections'``), the detected boxes are embedded by a second pass
    through the RoI extractor and the shared head, so a gallery embedding
    describes the box that is reported, and query boxes are embedded by the
    very same path (:meth:`predict_query`). With ``'proposals'`` a
    detection keeps the embedding of the proposal it was regressed from,
    computed in the one pass that scores the proposals, as OIM's Caffe
    code, NAE and SeqNet's first stage do: no second pass.

    Args:
        embedding_head (dict): Config of the embedding head, e.g.
            :class:`EmbeddingHead`.
        **kwargs: Arguments of :class:`mmdet.models.StandardRoIHead`.
    """

    def __init__(self, embedding_head: ConfigType, **kwargs) -> None:
        super().__init__(**kwargs)
        self.init_embedding_head(embedding_head)

    @property
    def with_query_context(self) -> bool:
        """Whether query samples also get the persons of their image
        (SeqNet's CBGM context); see :class:`SeqNetRoIHead`."""
        return False

    def init_embedding_head(self, embedding_head: ConfigType) -> None:
        """Initialize the embedding head.

        Args:
            embedding_head (dict or ConfigDict): Config of the embedding
                head.
        """
        self.embedding_head = MODELS.build(embedding_head)
        if self.embedding_head.num_inputs not in (1, 2):
            raise ValueError(
                f'{type(self).__name__} gives an embedding head 1 input (the '
                f'features after the shared head) or 2 (the RoI features '
                f'too), but {type(self.embedding_head).__name__} takes '
                f'{self.embedding_head.num_inputs}')

    def roi_features(self, x: Tuple[Tensor],
                     rois: Tensor) -> Tuple[Tensor, Tensor]:
        """RoI features before and after the shared head.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            rois (Tensor): RoIs, shape (n, 5), the first column the index of
                the image in the batch.

        Returns:
            tuple[Tensor, Tensor]: The RoI extractor's features, e.g. (n,
            1024, 14, 14) on res4, and the shared head's, e.g. (n, 2048, 7,
            7) from res5 (the same tensor without a shared head).
        """
        roi_feats = self.bbox_roi_extractor(
            x[:self.bbox_roi_extractor.num_inputs], rois)
        bbox_feats = self.shared_head(
            roi_feats) if self.with_shared_head else roi_feats
        return roi_feats, bbox_feats

    def embed_features(self, roi_feats: Tensor, bbox_feats: Tensor) -> Tensor:
        """Embeddings of RoI features (:meth:`roi_features`).

        An embedding head with one input embeds the features after the
        shared head (OIM's pooled res5); one with two inputs, e.g.
        :class:`MultiInputEmbeddingHead`, both (the res4 + res5 embedding
        of NAE's and SeqNet's code).

        Args:
            roi_feats (Tensor): Features before the shared head, (n, ...).
            bbox_feats (Tensor): Features after it, (n, ...).

        Returns:
            Tensor: Unit-norm embeddings, shape (n, D).
        """
        if self.embedding_head.num_inputs == 1:
            return self.embedding_head(bbox_feats)
        return self.embedding_head([roi_feats, bbox_feats])

    def _bbox_forward(self,
                      x: Tuple[Tensor],
                      rois: Tensor,
                      with_embeddings: bool = True) -> dict:
        """Box and embedding head forward, in training and testing.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            rois (Tensor): RoIs, shape (n, 5), the first column the index of
                the image in the batch.
            with_embeddings (bool): Whether to embed the RoIs too.
                Defaults to True.

        Returns:
            dict[str, Tensor]: mmdet's ``cls_score``, ``bbox_pred`` and
            ``bbox_feats``, and with ``with_embeddings`` ``embeddings`` of
            shape (n, D).
        """
        roi_feats, bbox_feats = self.roi_features(x, rois)
        cls_score, bbox_pred = self.bbox_head(bbox_feats)
        bbox_results = dict(
            cls_score=cls_score, bbox_pred=bbox_pred, bbox_feats=bbox_feats)
        if with_embeddings:
            bbox_results['embeddings'] = self.embed_features(
                roi_feats, bbox_feats)
        return bbox_results

    def loss(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
             batch_data_samples: SampleList) -> dict:
        """Detection and re-identification losses of the sampled RoIs.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            rpn_results_list (list[:obj:`InstanceData`]): Proposals.
            batch_data_samples (list[:obj:`DetDataSample`]): Samples whose
                ``gt_instances`` have ``bboxes``, ``labels`` and
                ``person_ids``.

        Returns:
            dict[str, Tensor]: ``loss_cls``, ``acc``, ``loss_bbox`` and
            ``loss_reid``.
        """
        assert len(rpn_results_list) == len(batch_data_samples)
        batch_gt_instances, batch_gt_instances_ignore, _ = \
            unpack_gt_instances(batch_data_samples)
        sampling_results = self.assign_and_sample(x, rpn_results_list,
                                                  batch_gt_instances,
                                                  batch_gt_instances_ignore)
        bbox_results = self.bbox_loss(x, sampling_results)
        reid_results = self.embedding_head.loss_and_target(
            bbox_results['embeddings'], sampling_results, batch_gt_instances)
        losses = dict(bbox_results['loss_bbox'])
        losses.update(reid_results['loss_reid'])
        return losses

    def assign_and_sample(
            self, x: Tuple[Tensor], rpn_results_list: InstanceList,
            batch_gt_instances: InstanceList,
            batch_gt_instances_ignore: InstanceList) -> List[SamplingResult]:
        """Assign proposals to the ground truth and sample RoIs per image.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            rpn_results_list (list[:obj:`InstanceData`]): Proposals.
            batch_gt_instances (list[:obj:`InstanceData`]): Ground truth.
            batch_gt_instances_ignore (list[:obj:`InstanceData`]): Ignored
                ground truth.

        Returns:
            list[:obj:`SamplingResult`]: One sampling result per image.
        """
        sampling_results = []
        for i, rpn_results in enumerate(rpn_results_list):
            rpn_results.priors = rpn_results.pop('bboxes')
            assign_result = self.bbox_assigner.assign(
                rpn_results, batch_gt_instances[i],
                batch_gt_instances_ignore[i])
            sampling_results.append(
                self.bbox_sampler.sample(
                    assign_result,
                    rpn_results,
                    batch_gt_instances[i],
                    feats=[lvl_feat[i][None] for lvl_feat in x]))
        return sampling_results

    def embed_boxes(self, x: Tuple[Tensor],
                    batch_bboxes: List[Tensor]) -> List[Tensor]:
        """Embed given boxes of each image.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            batch_bboxes (list[Tensor]): Boxes of each image in the network
                input's coordinates, each of shape (n_i, 4).

        Returns:
            list[Tensor]: Unit-norm embeddings of each image, each of shape
            (n_i, D).
        """
        rois = bbox2roi(batch_bboxes)
        if rois.shape[0] == 0:
            return [
                rois.new_zeros(0, self.embedding_head.embed_channels)
                for _ in batch_bboxes
            ]
        embeddings = self.embed_rois(x, rois)
        return list(embeddings.split([len(b) for b in batch_bboxes]))

    def embed_rois(self, x: Tuple[Tensor], rois: Tensor) -> Tensor:
        """Embeddings of RoIs: RoI features, shared head, embedding head.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            rois (Tensor): RoIs, shape (n, 5), n > 0.

        Returns:
            Tensor: Unit-norm embeddings, shape (n, D).
        """
        return self.embed_features(*self.roi_features(x, rois))

    def predict_bbox(self,
                     x: Tuple[Tensor],
                     batch_img_metas: List[dict],
                     rpn_results_list: InstanceList,
                     rcnn_test_cfg: ConfigType,
                     rescale: bool = False) -> InstanceList:
        """Detect persons and embed each detection (gallery mode).

        Args:
            x (tuple[Tensor]): Multi-level image features.
            batch_img_metas (list[dict]): Meta information of each image.
            rpn_results_list (list[:obj:`InstanceData`]): Proposals.
            rcnn_test_cfg (ConfigDict): ``test_cfg`` of the R-CNN stage.
            rescale (bool): Whether to return boxes in the original image
                space. Defaults to False.

        Returns:
            list[:obj:`InstanceData`]: Detections of each image with
            ``bboxes`` (n, 4), ``scores`` (n, ), ``labels`` (n, ) and
            ``embeddings`` (n, D).
        """
        embedding_rois = rcnn_test_cfg.get('embedding_rois', 'detections')
        if embedding_rois not in EMBEDDING_ROIS:
            raise ValueError(f'test_cfg.rcnn.embedding_rois must be one of '
                             f'{EMBEDDING_ROIS}, got {embedding_rois!r}')
        # one pass scores, regresses (and in 'proposals' mode embeds) the
        # proposals; nothing is computed to be discarded
        results_list = self.detect(
            x,
            batch_img_metas,
            rpn_results_list,
            rcnn_test_cfg,
            with_embeddings=embedding_rois == 'proposals')
        if embedding_rois == 'detections':
            batch_embeddings = self.embed_boxes(
                x, [results.bboxes for results in results_list])
            for results, embeddings in zip(results_list, batch_embeddings):
                results.embeddings = embeddings
        for results, img_meta in zip(results_list, batch_img_metas):
            if rescale:
                results.bboxes = scale_boxes(
                    results.bboxes, [1 / s for s in img_meta['scale_factor']])
        return results_list

    def detect(self,
               x: Tuple[Tensor],
               batch_img_metas: List[dict],
               rpn_results_list: InstanceList,
               rcnn_test_cfg: ConfigType,
               with_embeddings: bool = False) -> InstanceList:
        """Detections among the proposals, optionally with the embeddings of
        the proposals they come from, in one pass.

        Boxes and scores are mmdet's (:class:`BBoxHead`'s decoding and
        ``multiclass_nms``, as ``StandardRoIHead.predict_bbox``); with
        ``with_embeddings`` each kept detection takes the embedding that
        :meth:`_bbox_forward` gave its proposal.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            batch_img_metas (list[dict]): Meta information of each image.
            rpn_results_list (list[:obj:`InstanceData`]): Proposals.
            rcnn_test_cfg (ConfigDict): ``score_thr``, ``nms`` and
                ``max_per_img``.
            with_embeddings (bool): Whether to embed the proposals and keep
                the embeddings of the detections. Defaults to False.

        Returns:
            list[:obj:`InstanceData`]: Detections of each image in the
            network input's coordinates: ``bboxes`` (n, 4), ``scores``
            (n, ), ``labels`` (n, ) and with ``with_embeddings``
            ``embeddings`` (n, D).
        """
        if self.bbox_head.num_classes != 1:
            raise ValueError(
                f'{type(self).__name__} needs a person-only box head '
                f'(num_classes=1), not num_classes='
                f'{self.bbox_head.num_classes}')
        proposals = [res.bboxes for res in rpn_results_list]
        rois = bbox2roi(proposals)
        empty_embeddings = rois.new_zeros(0,
                                          self.embedding_head.embed_channels)
        if rois.shape[0] == 0:
            results_list = [
                InstanceData(
                    bboxes=rois.new_zeros(0, 4),
                    scores=rois.new_zeros(0),
                    labels=rois.new_zeros(0).long()) for _ in batch_img_metas
            ]
            if with_embeddings:
                for results in results_list:
                    results.embeddings = empty_embeddings
            return results_list
        results = self._bbox_forward(x, rois, with_embeddings)
        counts = [len(p) for p in proposals]
        cls_scores = results['cls_score']
        if self.bbox_head.custom_cls_channels:
            scores = self.bbox_head.loss_cls.get_activation(cls_scores)
        else:
            scores = F.softmax(cls_scores, dim=-1)
        batch_embeddings = results['embeddings'].split(
            counts) if with_embeddings else [None] * len(counts)
        results_list = []
        for image_rois, image_scores, deltas, embeddings, img_meta in zip(
                rois.split(counts), scores.split(counts),
                results['bbox_pred'].split(counts), batch_embeddings,
                batch_img_metas):
            bboxes = get_box_tensor(
                self.bbox_head.bbox_coder.decode(
                    image_rois[:, 1:],
                    deltas.view(-1, self.bbox_head.bbox_coder.encode_size),
                    max_shape=img_meta['img_shape']))
            # one class: the kept indices are those of the proposals
            dets, labels, keep = multiclass_nms(
                bboxes,
                image_scores,
                rcnn_test_cfg.score_thr,
                rcnn_test_cfg.nms,
                rcnn_test_cfg.max_per_img,
                return_inds=True)
            detections = InstanceData(
                bboxes=dets[:, :-1], scores=dets[:, -1], labels=labels)
            if with_embeddings:
                detections.embeddings = embeddings[keep]
            results_list.append(detections)
        return results_list

    def predict_query(self,
                      x: Tuple[Tensor],
                      batch_data_samples: SampleList,
                      rescale: bool = True) -> InstanceList:
        """Embed the given query boxes of each image (query mode).

        As in mmdet's test pipelines, the ground truth of a test sample is
        loaded after ``Resize`` and is in the original image's coordinates;
        it is scaled to the network input here.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            batch_data_samples (list[:obj:`DetDataSample`]): Samples whose
                ``gt_instances.bboxes`` are the query boxes, shape (n_i, 4).
            rescale (bool): Whether to return boxes in the original image
                space. Defaults to True.

        Returns:
            list[:obj:`InstanceData`]: Per image, the query boxes as
            ``bboxes`` with ``scores`` 1, ``labels`` 0 and their
            ``embeddings`` (n_i, D).
        """
        original_bboxes = [
            get_box_tensor(sample.gt_instances.bboxes)
            for sample in batch_data_samples
        ]
        input_bboxes = [
            scale_boxes(bboxes, sample.metainfo['scale_factor'])
            for bboxes, sample in zip(original_bboxes, batch_data_samples)
        ]
        batch_embeddings = self.embed_boxes(x, input_bboxes)
        results_list = []
        for sample, bboxes, embeddings in zip(
                batch_data_samples,
                original_bboxes if rescale else input_bboxes,
                batch_embeddings):
            results = sample.gt_instances.new(
                bboxes=bboxes,
                scores=bboxes.new_ones(len(bboxes)),
                labels=bboxes.new_zeros(len(bboxes)).long(),
                embeddings=embeddings)
            results_list.append(results)
        return results_list
