# Copyright (c) mmps contributors. All rights reserved.
import torch
from mmdet.models.backbones import ResNeXt

from mmps.registry import MODELS


def test_resnext_layer_is_a_grouped_conv5():
    layer = MODELS.build(
        dict(type='ResNeXtLayer', depth=50, groups=32, base_width=4))
    blocks = list(layer.layer4)
    assert len(blocks) == 3
    first = blocks[0]
    # ResNeXt-50 32x4d conv5: width floor(512 * 4 / 64) * 32 = 1024
    assert first.conv2.groups == 32
    assert first.conv1.in_channels == 1024
    assert first.conv2.in_channels == first.conv2.out_channels == 1024
    assert first.conv3.out_channels == 2048
    out = layer(torch.rand(2, 1024, 14, 14))
    assert out.shape == (2, 2048, 7, 7)
    # norm_eval keeps the BN statistics frozen in training mode
    layer.train()
    assert not first.bn1.training


def test_resnext_layer_is_conv5_of_mmdet_resnext():
    """With the weights of mmdet's ResNeXt-50 conv5, the same output."""
    torch.manual_seed(0)
    backbone = ResNeXt(depth=50, groups=32, base_width=4)
    layer = MODELS.build(
        dict(type='ResNeXtLayer', depth=50, groups=32, base_width=4))
    layer.layer4.load_state_dict(backbone.layer4.state_dict())
    backbone.eval()
    layer.eval()
    c4 = torch.rand(1, 1024, 6, 6)
    torch.testing.assert_close(layer(c4), backbone.layer4(c4))
