# Copyright (c) mmps contributors. All rights reserved.
from typing import List

import torch
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.utils import ConfigType, InstanceList, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor

from mmps.registry import MODELS

#: Person id given to background RoIs; they never enter the re-id loss.
BACKGROUND_ID = -2


class BaseEmbeddingHead(BaseModule):
    """Base of the re-identification embedding heads.

    An embedding head maps RoI features to L2-normalised embeddings and owns
    the re-identification loss, as mmdet's ``BBoxHead`` owns the detection
    losses. This base gives every head the person id of each sampled RoI
    (:meth:`get_targets`) and the loss of the foreground RoIs
    (:meth:`loss_and_target`); subclasses define ``forward``.

    Args:
        embed_channels (int): Dimension ``D`` of the embedding.
        loss_reid (dict): Config of the re-identification loss, called with
            the embeddings and person ids of the foreground RoIs.
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 embed_channels: int,
                 loss_reid: ConfigType,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_channels = embed_channels
        self.loss_reid = MODELS.build(loss_reid)

    @property
    def num_inputs(self) -> int:
        """Number of RoI features the head takes: 1, the features after
        the shared head (or the RoI features if there is none), as one
        tensor; a head with more takes a list, RoI features first."""
        return 1

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
