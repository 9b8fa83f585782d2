# Copyright (c) mmps contributors. All rights reserved.
import torch.nn as nn
from mmdet.models.backbones.resnext import ResNeXt
from mmdet.models.layers import ResLayer as _ResLayer

from mmps.registry import MODELS
from .scaled_res_layer import ScaledResLayer


@MODELS.register_module()
class ResNeXtLayer(ScaledResLayer):
    """One ResNeXt stage as the shared head of a C4 detector.

    mmdet's ``ResLayer`` builds the stage from plain ResNet bottlenecks;
    this builds it from ResNeXt's grouped ones, so that a ResNeXt C4 model
    runs conv5 of the same network on its RoIs (e.g. ``ResNeXt-101 32x4d``:
    ``depth=101, groups=32, base_width=4``).

    Args:
        depth (int): Depth of the ResNeXt: 50, 101 or 152.
        groups (int): Groups of the 3x3 convolutions. Defaults to 32.
        base_width (int): Width of each group at the first stage.
            Defaults to 4.
        **kwargs: The other arguments of :class:`ScaledResLayer`
            (``base_channels``, ``stage``, ``stride``, ``norm_cfg``, ...).
    """
    arch_settings = ResNeXt.arch_settings

    def __init__(self,
                 depth: int,
                 groups: int = 32,
                 base_width: int = 4,
                 **kwargs) -> None:
        # plain attributes, read by make_stage during the parent's __init__
        self.groups = groups
        self.base_width = base_width
        super().__init__(depth, **kwargs)

    def make_stage(self, block: type, inplanes: int, planes: int,
                   num_blocks: int, base_channels: int, **kwargs) -> nn.Module:
        """Build the stage from grouped bottlenecks.

        Args:
            block (type): ResNeXt's ``Bottleneck``.
            inplanes (int): Input channels of the stage.
            planes (int): Planes of its blocks.
            num_blocks (int): Number of blocks.
            base_channels (int): The network's stem channels, which set the
                width of the groups with ``base_width``.
            **kwargs: Stride, dilation, style, with_cp, norm_cfg and dcn of
                the blocks.

        Returns:
            nn.Module: The stage.
        """
        return _ResLayer(
            block,
            inplanes,
            planes,
            num_blocks,
            groups=self.groups,
            base_width=self.base_width,
            base_channels=base_channels,
            **kwargs)
