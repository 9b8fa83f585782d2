# Copyright (c) mmps contributors. All rights reserved.
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmdet.utils import ConfigType, OptMultiConfig
from torch import Tensor

from mmps.registry import MODELS
from .base_embedding_head import BaseEmbeddingHead


def split_channels(total: int, parts: int) -> List[int]:
    """Split ``total`` channels into ``parts`` nearly equal parts.

    The remainder goes to the last parts, one channel each, as NAE and
    SeqNet split the embedding among their feature maps.

    Args:
        total (int): Channels to split.
        parts (int): Number of parts.

    Returns:
        list[int]: The channels of each part, summing to ``total``.
    """
    sizes = [total // parts] * parts
    for i in range(1, total % parts + 1):
        sizes[-i] += 1
    return sizes


@MODELS.register_module()
class MultiInputEmbeddingHead(BaseEmbeddingHead):
    """Embedding of several RoI features, each projected with a BN neck.

    The embedding of NAE's and SeqNet's code, also used by their OIM
    baselines: each RoI feature (e.g. the RoIAlign output on res4 and the
    shared head's res5 output) is max-pooled over its positions, projected
    by a linear layer and a BatchNorm to its share of the ``D`` channels
    (:func:`split_channels`), and the projections are concatenated and L2
    normalised. With one input it is a max-pooled projection with a BN neck.

    Args:
        in_channels (Sequence[int]): Channels of each input feature, in the
            order the RoI head passes them (RoI features before the shared
            head first). Defaults to (1024, 2048), res4 and res5 of a
            ResNet.
        embed_channels (int): Dimension ``D`` of the embedding.
            Defaults to 256.
        norm_cfg (dict): Normalisation after each projection.
            Defaults to ``dict(type='BN1d')``.
        loss_reid (dict): Config of the re-identification loss.
            Defaults to ``dict(type='OIMLoss', num_person_ids=5532)``.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to NAE's and SeqNet's: weights of the projections'
            linear and normalisation layers from N(0, 0.01), biases 0.
    """

    def __init__(
        self,
        in_channels: Sequence[int] = (1024, 2048),
        embed_channels: int = 256,
        norm_cfg: ConfigType = dict(type='BN1d'),
        loss_reid: ConfigType = dict(type='OIMLoss', num_person_ids=5532),
        init_cfg: OptMultiConfig = dict(
            type='Normal', std=0.01, bias=0, override=dict(name='projections'))
    ) -> None:
        super().__init__(embed_channels, loss_reid, init_cfg=init_cfg)
        self.in_channels = tuple(in_channels)
        self.projections = nn.ModuleList()
        for channels, dim in zip(
                self.in_channels,
                split_channels(embed_channels, len(self.in_channels))):
            self.projections.append(
                nn.Sequential(
                    nn.Linear(channels, dim),
                    build_norm_layer(norm_cfg, dim)[1]))

    @property
    def num_inputs(self) -> int:
        """Number of RoI features the head takes."""
        return len(self.in_channels)

    def project(self, feats: Sequence[Tensor]) -> Tensor:
        """Pool, project and concatenate the features, not normalised.

        Args:
            feats (Sequence[Tensor]): One feature per input, of shape
                (N, C_i, H_i, W_i) (max-pooled here) or already pooled,
                (N, C_i).

        Returns:
            Tensor: The concatenated projections, shape (N, D).
        """
        if len(feats) != len(self.projections):
            raise ValueError(f'{type(self).__name__} expects '
                             f'{len(self.projections)} features (channels '
                             f'{self.in_channels}), got {len(feats)}')
        pooled = [
            F.adaptive_max_pool2d(feat, 1) if feat.dim() == 4 else feat
            for feat in feats
        ]
        return torch.cat([
            projection(feat.flatten(1))
            for projection, feat in zip(self.projections, pooled)
        ],
                         dim=1)

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        """Embed RoI features.

        Args:
            feats (Sequence[Tensor]): See :meth:`project`.

        Returns:
            Tensor: Unit-norm embeddings, shape (N, D).
        """
        return F.normalize(self.project(feats), dim=1)
