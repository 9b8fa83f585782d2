# Copyright (c) mmps contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmps.registry import MODELS
from .base_embedding_head import BaseEmbeddingHead


@MODELS.register_module()
class EmbeddingHead(BaseEmbeddingHead):
    """Re-identification embedding head.

    Projects RoI features to an L2-normalised embedding, as the ``feat``
    branch of OIM: global average pooling (for C4 heads) or flattening (for
    FPN heads), a linear projection, an optional normalisation layer, then
    L2 normalisation. It owns the re-identification loss
    (:class:`BaseEmbeddingHead`).

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
        super().__init__(embed_channels, loss_reid, init_cfg=init_cfg)
        self.in_channels = in_channels
        self.with_avg_pool = with_avg_pool
        projection_in = in_channels if with_avg_pool else \
            in_channels * roi_feat_size * roi_feat_size
        self.projection = nn.Linear(projection_in, embed_channels)
        self.norm: Optional[nn.Module] = None
        if norm_cfg is not None:
            self.norm = build_norm_layer(norm_cfg, embed_channels)[1]

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
