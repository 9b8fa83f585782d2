# Copyright (c) mmps contributors. All rights reserved.
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.utils import ConfigType, InstanceList, OptConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor

from mmps.registry import MODELS

#: Person id given to background RoIs; they never enter the re-id loss.
BACKGROUND_ID = -2


@MODELS.register_module()
class EmbeddingHead(BaseModule):
    """Re-identification embedding head.

    Projects RoI features to an L2-normalised embedding, as the ``feat``
    branch of OIM: global average pooling (for C4 heads) or flattening (for
    FPN heads), a linear projection, an optional normalisation layer, then
    L2 normalisation. It owns the re-identification loss, as mmdet's
    ``BBoxHead`` owns the detection losses.

    Args:
        in_channels (int): Channels of the RoI features. Defaults to 2048.
        embed_channels (int): Dimension ``D`` of the embedding.
            Defaults to 256.
        with_avg_pool (bool): Whether to average-pool the RoI features before
            the projection. When False they are flattened, and
            ``in_channels * roi_feat_size ** 2`` features enter the
            projection. Defaults to True.
        roi_feat_size (int): Side of the RoI feature map, used when
            ``with_avg_pool`` is False. Defaults to 7.
        norm_cfg (dict, optional): Config of a normalisation layer after the
            projection, e.g. ``dict(type='BN1d')``. Defaults to None.
        loss_reid (dict): Config of the re-identification loss, called with
            the embeddings and person ids of the foreground RoIs.
            Defaults to ``dict(type='OIMLoss', num_person_ids=5532)``.
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(
        self,
        in_channels: int = 2048,
        embed_channels: int = 256,
        with_avg_pool: bool = True,
        roi_feat_size: int = 7,
        norm_cfg: OptConfigType = None,
        loss_reid: ConfigType = dict(type='OIMLoss', num_person_ids=5532),
        init_cfg: OptMultiConfig = dict(
            type='Normal', std=0.01, override=dict(name='projection'))
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.embed_channels = embed_channels
        self.with_avg_pool = with_avg_pool
        projection_in = in_channels if with_avg_pool else \
            in_channels * roi_feat_size * roi_feat_size
        self.projection = nn.Linear(projection_in, embed_channels)
        self.norm: Optional[nn.Module] = None
        if norm_cfg is not None:
            self.norm = build_norm_layer(norm_cfg, embed_channels)[1]
        self.loss_reid = MODELS.build(loss_reid)

    def forward(self, x: Tensor) -> Tensor:
        """Embed RoI features.

        Args:
            x (Tensor): RoI features, shape (N, C, H, W), or pooled features
                of shape (N, C).

        Returns:
            Tensor: Unit-norm embeddings, shape (N, D).
        """
        if x.dim() == 4:
            x = x.mean(dim=(2, 3)) if self.with_avg_pool else x.flatten(1)
        x = self.projection(x)
        # BatchNorm cannot normalise a single training sample.
        if self.norm is not None and not (self.training and x.shape[0] < 2):
            x = self.norm(x)
        return F.normalize(x, dim=1)

    def get_targets(self, sampling_results: List[SamplingResult],
                    batch_gt_instances: InstanceList) -> Tensor:
        """Person id of every sampled RoI.

        Args:
            sampling_results (list[:obj:`SamplingResult`]): Sampling results
                of the images, whose positive then negative priors are the
                RoIs in order.
            batch_gt_instances (list[:obj:`InstanceData`]): Ground truth of
                the images, with ``person_ids`` of shape (num_gts, ).

        Returns:
            Tensor: Person ids, shape (num_rois, ): the id of the assigned
            ground truth for positives (``-1`` for an unlabeled person) and
            ``BACKGROUND_ID`` for negatives.
        """
        targets = []
        for result, gt_instances in zip(sampling_results, batch_gt_instances):
            if 'person_ids' not in gt_instances:
                raise KeyError(
                    'gt_instances has no `person_ids`: use a person search '
                    'dataset and `PackPersonSearchInputs`, or add '
                    '`person_ids` to the ground truth.')
            person_ids = gt_instances.person_ids.long()
            targets.append(person_ids[result.pos_assigned_gt_inds])
            targets.append(
                person_ids.new_full((len(result.neg_priors), ), BACKGROUND_ID))
        return torch.cat(targets)

    def loss_and_target(self, embeddings: Tensor,
                        sampling_results: List[SamplingResult],
                        batch_gt_instances: InstanceList) -> dict:
        """Compute the re-identification loss of the sampled RoIs.

        Args:
            embeddings (Tensor): Embeddings of all sampled RoIs, shape
                (num_rois, D), in the order of ``sampling_results``.
            sampling_results (list[:obj:`SamplingResult`]): Sampling results.
            batch_gt_instances (list[:obj:`InstanceData`]): Ground truth with
                ``person_ids``.

        Returns:
            dict: ``loss_reid`` (dict with the ``loss_reid`` Tensor) and
            ``reid_targets`` (Tensor of shape (num_rois, )).
        """
        person_ids = self.get_targets(sampling_results, batch_gt_instances)
        foreground = person_ids != BACKGROUND_ID
        loss = self.loss_reid(embeddings[foreground], person_ids[foreground])
        return dict(loss_reid=dict(loss_reid=loss), reid_targets=person_ids)
