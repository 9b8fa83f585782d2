# Copyright (c) mmps contributors. All rights reserved.
from typing import List, Tuple

from mmdet.models.detectors import TwoStageDetector
from mmdet.structures import SampleList
from torch import Tensor

from mmps.registry import MODELS

#: Metainfo key that marks a data sample as a query.
QUERY_KEY = 'is_query'


def is_query(data_sample) -> bool:
    """Whether a data sample asks for query mode (embed its given boxes)."""
    return bool(data_sample.metainfo.get(QUERY_KEY, False))


def select_features(x: Tuple[Tensor], indices: List[int]) -> Tuple[Tensor]:
    """Features of a subset of the images of a batch.

    Args:
        x (tuple[Tensor]): Multi-level features, each of shape
            (B, C, H, W).
        indices (list[int]): Images to keep.

    Returns:
        tuple[Tensor]: Features of the kept images, each (len(indices), C,
        H, W).
    """
    if len(indices) == x[0].shape[0]:
        return x
    return tuple(level[indices] for level in x)


@MODELS.register_module()
class PersonSearch(TwoStageDetector):
    """Joint detection and re-identification for person search (OIM).

    Implementation of `Joint Detection and Identification Feature Learning
    for Person Search <https://arxiv.org/abs/1604.01850>`_.

    Training is mmdet's two-stage training; the RoI head adds the
    re-identification loss. :meth:`predict` has two modes, chosen per image
    by the ``is_query`` key of the data sample's metainfo:

    - gallery (default): detect persons; ``pred_instances`` holds
      ``bboxes``, ``scores``, ``labels`` and unit-norm ``embeddings``;
    - query: embed the boxes of ``gt_instances`` without detection;
      ``pred_instances`` holds those boxes (score 1) and their embeddings.
      When the RoI head has ``with_query_context`` (SeqNet's CBGM rule),
      the query image is also searched with its query box forced among the
      detections, into ``context_instances``.

    A batch may mix both modes; the backbone runs once for all images.
    """

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Detect and embed persons (gallery) or embed given boxes (query).

        Args:
            batch_inputs (Tensor): Images, shape (B, C, H, W).
            batch_data_samples (list[:obj:`DetDataSample`]): Samples; query
                samples have ``metainfo['is_query'] = True`` and their query
                boxes in ``gt_instances.bboxes`` (original image coordinates,
                as mmdet's test pipelines load them).
            rescale (bool): Whether to return boxes in the original image
                space. Defaults to True.

        Returns:
            list[:obj:`DetDataSample`]: The samples with ``pred_instances``:
            ``bboxes`` (n, 4), ``scores`` (n, ), ``labels`` (n, ) and
            ``embeddings`` (n, D), float32 with unit L2 norm.
        """
        assert self.with_bbox, 'Bbox head must be implemented.'
        x = self.extract_feat(batch_inputs)
        query_flags = [is_query(sample) for sample in batch_data_samples]
        query_indices = [i for i, flag in enumerate(query_flags) if flag]
        gallery_indices = [i for i, flag in enumerate(query_flags) if not flag]
        results_list = [None] * len(batch_data_samples)
        if gallery_indices:
            gallery_samples = [batch_data_samples[i] for i in gallery_indices]
            gallery_results = self.predict_gallery(
                select_features(x, gallery_indices), gallery_samples, rescale)
            for i, results in zip(gallery_indices, gallery_results):
                results_list[i] = results
        query_samples = [batch_data_samples[i] for i in query_indices]
        if query_indices:
            query_x = select_features(x, query_indices)
            query_results = self.roi_head.predict_query(
                query_x, query_samples, rescale)
            for i, results in zip(query_indices, query_results):
                results_list[i] = results
        samples = self.add_pred_to_datasample(batch_data_samples, results_list)
        if query_indices and getattr(self.roi_head, 'with_query_context',
                                     False):
            rpn_results_list = self.rpn_head.predict(
                query_x, query_samples, rescale=False)
            contexts = self.roi_head.predict_query_context(
                query_x, rpn_results_list, query_samples, rescale)
            for sample, context in zip(query_samples, contexts):
                sample.context_instances = context
        return samples

    def predict_gallery(self, x: Tuple[Tensor], batch_data_samples: SampleList,
                        rescale: bool) -> list:
        """Detect persons and embed the detections.

        Args:
            x (tuple[Tensor]): Multi-level features of the gallery images.
            batch_data_samples (list[:obj:`DetDataSample`]): Their samples.
            rescale (bool): Whether to return boxes in the original image
                space.

        Returns:
            list[:obj:`InstanceData`]: Detections with embeddings, per image.
        """
        if batch_data_samples[0].get('proposals', None) is None:
            rpn_results_list = self.rpn_head.predict(
                x, batch_data_samples, rescale=False)
        else:
            rpn_results_list = [
                data_sample.proposals for data_sample in batch_data_samples
            ]
        return self.roi_head.predict(
            x, rpn_results_list, batch_data_samples, rescale=rescale)
