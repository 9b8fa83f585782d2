# Copyright (c) mmps contributors. All rights reserved.
import pytest
import torch
from mmdet.models.backbones import ResNet
from mmdet.models.roi_heads.shared_heads import ResLayer

from mmps.registry import MODELS


def test_scaled_res_layer_is_conv5_of_a_slim_resnet():
    """With the weights of ResNet(base_channels=32)'s conv5, same output."""
    torch.manual_seed(0)
    backbone = ResNet(depth=18, base_channels=32, out_indices=(3, ))
    head = MODELS.build(
        dict(type='ScaledResLayer', depth=18, base_channels=32))
    # mmdet's ResNet.train returns None: no chaining
    backbone.eval()
    head.eval()
    head.layer4.load_state_dict(backbone.layer4.state_dict())
    c4 = torch.rand(2, 128, 8, 8)
    out = head(c4)
    assert out.shape == (2, 256, 4, 4)
    torch.testing.assert_close(out, backbone.layer4(c4))


@pytest.mark.parametrize('depth', [18, 50])
def test_scaled_res_layer_default_width_is_mmdet_res_layer(depth):
    ours = MODELS.build(dict(type='ScaledResLayer', depth=depth))
    theirs = ResLayer(depth)
    assert {
        k: v.shape
        for k, v in ours.state_dict().items()
    } == {
        k: v.shape
        for k, v in theirs.state_dict().items()
    }
