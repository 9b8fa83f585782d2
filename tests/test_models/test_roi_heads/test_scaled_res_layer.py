# Copyright (c) mmps contributors. All rights reserved.
import pytest
import torch
from mmdet.models.backbones import ResNet, ResNeXt
from mmdet.models.layers import ResLayer as StageLayer
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


def _replaced_stage_reference(depth,
                              base_channels=64,
                              stage=3,
                              stride=2,
                              dilation=1,
                              style='pytorch',
                              groups=None,
                              base_width=4,
                              **kwargs):
    """The construction ScaledResLayer and ResNeXtLayer had: mmdet's
    ResLayer with its standard-width stage, then that stage replaced."""
    layer = ResLayer(
        depth,
        stage=stage,
        stride=stride,
        dilation=dilation,
        style=style,
        **kwargs)
    network = ResNet if groups is None else ResNeXt
    block, stage_blocks = network.arch_settings[depth]
    planes = base_channels * 2**stage
    grouped = {} if groups is None else dict(
        groups=groups, base_width=base_width, base_channels=base_channels)
    layer.add_module(
        f'layer{stage + 1}',
        StageLayer(
            block,
            planes // 2 * block.expansion,
            planes,
            stage_blocks[stage],
            stride=stride,
            dilation=dilation,
            style=style,
            norm_cfg=kwargs.get('norm_cfg',
                                dict(type='BN', requires_grad=True)),
            **grouped))
    return layer


STAGES = [
    dict(type='ScaledResLayer', depth=18, base_channels=32),
    dict(type='ScaledResLayer', depth=50, style='caffe', norm_eval=False),
    dict(
        type='ScaledResLayer',
        depth=50,
        base_channels=32,
        stage=2,
        stride=1,
        dilation=2),
    dict(type='ScaledResLayer', depth=18, base_channels=32, init_cfg=None),
    dict(
        type='ResNeXtLayer',
        depth=50,
        groups=32,
        base_width=4,
        init_cfg=dict(type='Normal', layer='Conv2d', std=0.01)),
]


@pytest.mark.parametrize('cfg', STAGES)
def test_the_stage_is_the_one_the_replacing_construction_gave(cfg):
    cfg = dict(cfg)
    layer = MODELS.build(cfg)
    cfg.pop('type')
    reference = _replaced_stage_reference(**cfg)
    # the same modules, below the outer class's name
    assert repr(layer).split('\n', 1)[1] == repr(reference).split('\n', 1)[1]
    assert layer.init_cfg == reference.init_cfg
    assert (layer.stage, layer.norm_eval) == (reference.stage,
                                              reference.norm_eval)
    assert {
        k: v.shape
        for k, v in layer.state_dict().items()
    } == {
        k: v.shape
        for k, v in reference.state_dict().items()
    }
    torch.manual_seed(0)
    reference.init_weights()
    layer.load_state_dict(reference.state_dict())
    block = getattr(layer, f'layer{layer.stage + 1}')[0]
    features = torch.rand(2, block.conv1.in_channels, 8, 8)
    for training in (False, True):
        layer.train(training)
        reference.train(training)
        torch.testing.assert_close(layer(features), reference(features))
        assert block.bn1.training == (training and not layer.norm_eval)


def test_pretrained_is_refused_beside_init_cfg_and_read_alone():
    with pytest.raises(ValueError, match='init_cfg and pretrained'):
        MODELS.build(
            dict(
                type='ScaledResLayer',
                depth=18,
                pretrained='a.pth',
                init_cfg=dict(type='Pretrained', checkpoint='b.pth')))
    with pytest.warns(UserWarning, match='pretrained is deprecated'):
        layer = MODELS.build(
            dict(type='ScaledResLayer', depth=18, pretrained='a.pth'))
    assert layer.init_cfg == dict(type='Pretrained', checkpoint='a.pth')


def test_only_the_wanted_stage_is_built():
    """Building the layer draws the random numbers of its stage alone."""
    torch.manual_seed(0)
    MODELS.build(dict(type='ScaledResLayer', depth=18, base_channels=32))
    after_layer = torch.rand(4)
    torch.manual_seed(0)
    block, stage_blocks = ResNet.arch_settings[18]
    StageLayer(block, 128, 256, stage_blocks[3], stride=2)
    torch.testing.assert_close(after_layer, torch.rand(4))
