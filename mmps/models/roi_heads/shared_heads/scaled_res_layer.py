# Copyright (c) mmps contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
from mmdet.models.backbones.resnet import ResNet
from mmdet.models.layers import ResLayer as _ResLayer
from mmdet.models.roi_heads.shared_heads import ResLayer

from mmps.registry import MODELS


@MODELS.register_module()
class ScaledResLayer(ResLayer):
    """One ResNet stage as the shared head of a C4 detector, of any width.

    mmdet's ``ResLayer`` builds the stage of a standard-width ResNet (64
    channels at the stem). This builds it for a backbone built with
    ``ResNet(base_channels=...)``, so that a slimmer (or wider) C4 model runs
    its own conv5 on the RoIs: with ``depth=18, base_channels=32`` it takes
    the 128-channel C4 map and gives 256 channels.

    Args:
        depth (int): Depth of the ResNet: 18, 34, 50, 101 or 152.
        base_channels (int): Channels of the backbone's stem, the
            ``base_channels`` of its ``ResNet``. Defaults to 64.
        stage (int): Stage index, from 0. Defaults to 3 (conv5).
        stride (int): Stride of the stage. Defaults to 2.
        dilation (int): Dilation of the stage. Defaults to 1.
        style (str): ``'pytorch'`` or ``'caffe'``. Defaults to 'pytorch'.
        norm_cfg (dict): Normalisation layers. Defaults to trainable BN.
        norm_eval (bool): Keep BN layers in eval mode. Defaults to True.
        with_cp (bool): Use checkpointing. Defaults to False.
        dcn (dict, optional): Deformable convolution config.
        pretrained (str, optional): Deprecated; use ``init_cfg``.
        init_cfg (dict, optional): Initialisation config.
    """
    #: ``depth: (block, blocks per stage)`` of the network the stage is of.
    arch_settings = ResNet.arch_settings

    def __init__(self,
                 depth: int,
                 base_channels: int = 64,
                 stage: int = 3,
                 stride: int = 2,
                 dilation: int = 1,
                 style: str = 'pytorch',
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = True,
                 with_cp: bool = False,
                 dcn: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            depth,
            stage=stage,
            stride=stride,
            dilation=dilation,
            style=style,
            norm_cfg=norm_cfg,
            norm_eval=norm_eval,
            with_cp=with_cp,
            dcn=dcn,
            pretrained=pretrained,
            init_cfg=init_cfg)
        block, stage_blocks = self.arch_settings[depth]
        planes = base_channels * 2**stage
        # replaces the standard-width stage built by ResLayer
        self.add_module(
            f'layer{stage + 1}',
            self.make_stage(
                block,
                inplanes=planes // 2 * block.expansion,
                planes=planes,
                num_blocks=stage_blocks[stage],
                base_channels=base_channels,
                stride=stride,
                dilation=dilation,
                style=style,
                with_cp=with_cp,
                norm_cfg=norm_cfg,
                dcn=dcn))

    def make_stage(self, block: type, inplanes: int, planes: int,
                   num_blocks: int, base_channels: int, **kwargs) -> nn.Module:
        """Build the stage's blocks.

        Args:
            block (type): Residual block class of :attr:`arch_settings`.
            inplanes (int): Input channels of the stage.
            planes (int): Planes of its blocks (output channels over the
                block's expansion).
            num_blocks (int): Number of blocks.
            base_channels (int): The network's stem channels; plain ResNet
                blocks do not need them.
            **kwargs: Stride, dilation, style, with_cp, norm_cfg and dcn of
                the blocks.

        Returns:
            nn.Module: The stage.
        """
        return _ResLayer(block, inplanes, planes, num_blocks, **kwargs)
