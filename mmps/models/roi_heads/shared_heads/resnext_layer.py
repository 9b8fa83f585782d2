# Copyright (c) mmps contributors. All rights reserved.
from typing import Optional

from mmdet.models.backbones.resnext import Bottleneck, ResNeXt
from mmdet.models.layers import ResLayer as _ResLayer
from mmdet.models.roi_heads.shared_heads import ResLayer

from mmps.registry import MODELS


@MODELS.register_module()
class ResNeXtLayer(ResLayer):
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

    def __init__(self,
                 depth: int,
                 groups: int = 32,
                 base_width: int = 4,
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
        _, stage_blocks = ResNeXt.arch_settings[depth]
        planes = 64 * 2**stage
        # replaces the plain ResNet stage built by ResLayer
        self.add_module(
            f'layer{stage + 1}',
            _ResLayer(
                Bottleneck,
                inplanes=planes // 2 * Bottleneck.expansion,
                planes=planes,
                num_blocks=stage_blocks[stage],
                stride=stride,
                dilation=dilation,
                style=style,
                with_cp=with_cp,
                norm_cfg=norm_cfg,
                dcn=dcn,
                groups=groups,
                base_width=base_width,
                base_channels=64))
