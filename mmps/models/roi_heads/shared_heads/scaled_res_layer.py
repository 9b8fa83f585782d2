# Copyright (c) mmps contributors. All rights reserved.
import warnings
from typing import Optional

import torch.nn as nn
from mmdet.models.backbones.resnet import ResNet
from mmdet.models.layers import ResLayer as _ResLayer
from mmdet.models.roi_heads.shared_heads import ResLayer
from mmengine.model import BaseModule

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
        # mmdet's ResLayer.__init__ would build a standard-width stage to be
        # thrown away: its forward and train are kept, its construction is
        # done here once, for the wanted width
        BaseModule.__init__(self, init_cfg)
        self.norm_eval = norm_eval
        self.norm_cfg = norm_cfg
        self.stage = stage
        self.fp16_enabled = False
        block, stage_blocks = self.arch_settings[depth]
        planes = base_channels * 2**stage
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
        # mmdet's ResLayer's initialisation: the deprecated ``pretrained``,
        # else Kaiming convolutions and unit norm layers
        if init_cfg and pretrained:
            raise ValueError('init_cfg and pretrained cannot be specified at '
                             'the same time')
        if isinstance(pretrained, str):
            warnings.warn('DeprecationWarning: pretrained is deprecated, '
                          'use init_cfg instead')
            self.init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        elif pretrained is not None:
            raise TypeError(f'pretrained must be a str or None, got '
                            f'{type(pretrained).__name__}')
        elif init_cfg is None:
            self.init_cfg = [
                dict(type='Kaiming', layer='Conv2d'),
                dict(
                    type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
            ]

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
