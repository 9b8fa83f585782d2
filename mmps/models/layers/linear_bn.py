# Copyright (c) mmps contributors. All rights reserved.
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmdet.utils import OptConfigType
from torch import Tensor

from mmps.registry import MODELS


@MODELS.register_module()
class LinearBN(nn.Module):
    """A linear layer followed by a normalisation layer (a "BN neck").

    NAE and SeqNet regress boxes with ``Linear`` then ``BatchNorm1d``. As a
    ``reg_predictor_cfg`` of mmdet's ``BBoxHead`` it gives its box
    regression that neck.

    Args:
        in_features (int): Input features.
        out_features (int): Output features.
        norm_cfg (dict, optional): Normalisation layer. Defaults to
            ``dict(type='BN1d')``.
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 norm_cfg: OptConfigType = None) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.norm = build_norm_layer(
            norm_cfg or dict(type='BN1d'), out_features)[1]

    def forward(self, x: Tensor) -> Tensor:
        """Project and normalise.

        Args:
            x (Tensor): Features, shape (N, in_features).

        Returns:
            Tensor: Shape (N, out_features).
        """
        return self.norm(self.linear(x))
