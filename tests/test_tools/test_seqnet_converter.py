# Copyright (c) mmps contributors. All rights reserved.
"""tools/model_converters/seqnet2mmps.py on SeqNet's checkpoint layout.

The SeqNet state dict is built here from SeqNet's code as documented
(torchvision's ResNet-50 split into the backbone and two res5 heads, its
RPN, predictors, norm-aware embedding and OIM buffers), independently of
the converter's own table.
"""
import os.path as osp
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmps.apis import PersonSearcher
from mmps.registry import MODELS
from mmps.utils import convert_seqnet_state_dict
from ._scripts import REPO, run_script

CONFIG = osp.join(REPO, 'configs/seqnet/seqnet_r50_1xb5-20e_cuhk-sysu.py')


def _batch_norm(prefix, channels, generator):
    return {
        f'{prefix}.weight': torch.rand(channels, generator=generator) + 0.5,
        f'{prefix}.bias': torch.randn(channels, generator=generator) * 0.1,
        f'{prefix}.running_mean':
        torch.randn(channels, generator=generator) * 0.1,
        f'{prefix}.running_var':
        torch.rand(channels, generator=generator) + 0.5,
        f'{prefix}.num_batches_tracked': torch.tensor(7),
    }


def _resnet_stage(prefix, blocks, inplanes, planes, generator):
    """torchvision Bottleneck blocks: conv1/bn1, conv2/bn2, conv3/bn3 and a
    downsample (conv, bn) in the first block."""
    state = {}
    for b in range(blocks):
        block = f'{prefix}.{b}'
        channels_in = inplanes if b == 0 else planes * 4
        shapes = [(planes, channels_in, 1, 1), (planes, planes, 3, 3),
                  (planes * 4, planes, 1, 1)]
        for i, shape in enumerate(shapes, 1):
            state[f'{block}.conv{i}.weight'] = torch.randn(
                shape, generator=generator) * 0.05
            state.update(_batch_norm(f'{block}.bn{i}', shape[0], generator))
        if b == 0:
            state[f'{block}.downsample.0.weight'] = torch.randn(
                (planes * 4, inplanes, 1, 1), generator=generator) * 0.05
            state.update(
                _batch_norm(f'{block}.downsample.1', planes * 4, generator))
    return state


def _linear(prefix, out_features, in_features, generator):
    return {
        f'{prefix}.weight':
        torch.randn((out_features, in_features), generator=generator) * 0.01,
        f'{prefix}.bias':
        torch.randn(out_features, generator=generator),
    }


def seqnet_state_dict(num_pids=5532, queue_size=5000, old_rpn=False, seed=0):
    """The keys and shapes of SeqNet's model (serend1p1ty/SeqNet)."""
    g = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    state['backbone.conv1.weight'] = torch.randn(
        (64, 3, 7, 7), generator=g) * 0.05
    state.update(_batch_norm('backbone.bn1', 64, g))
    for name, blocks, inplanes, planes in [('layer1', 3, 64, 64),
                                           ('layer2', 4, 256, 128),
                                           ('layer3', 6, 512, 256)]:
        state.update(
            _resnet_stage(f'backbone.{name}', blocks, inplanes, planes, g))
    conv = 'rpn.head.conv' if old_rpn else 'rpn.head.conv.0.0'
    state[f'{conv}.weight'] = torch.randn(
        (1024, 1024, 3, 3), generator=g) * 0.01
    state[f'{conv}.bias'] = torch.randn(1024, generator=g) * 0.01
    state['rpn.head.cls_logits.weight'] = torch.randn((15, 1024, 1, 1),
                                                      generator=g)
    state['rpn.head.cls_logits.bias'] = torch.randn(15, generator=g)
    state['rpn.head.bbox_pred.weight'] = torch.randn((60, 1024, 1, 1),
                                                     generator=g)
    state['rpn.head.bbox_pred.bias'] = torch.randn(60, generator=g)
    for head in ('box_head', 'reid_head'):
        state.update(
            _resnet_stage(f'roi_heads.{head}.layer4', 3, 1024, 512, g))
    state.update(
        _linear('roi_heads.faster_rcnn_predictor.cls_score', 2, 2048, g))
    state.update(
        _linear('roi_heads.faster_rcnn_predictor.bbox_pred', 8, 2048, g))
    state.update(_linear('roi_heads.box_predictor.bbox_pred.0', 8, 2048, g))
    state.update(_batch_norm('roi_heads.box_predictor.bbox_pred.1', 8, g))
    for name, channels in (('feat_res4', 1024), ('feat_res5', 2048)):
        prefix = f'roi_heads.embedding_head.projectors.{name}'
        state.update(_linear(f'{prefix}.0', 128, channels, g))
        state.update(_batch_norm(f'{prefix}.1', 128, g))
    state.update(_batch_norm('roi_heads.embedding_head.rescaler', 1, g))
    state['roi_heads.reid_loss.lut'] = torch.nn.functional.normalize(
        torch.randn((num_pids, 256), generator=g), dim=1)
    state['roi_heads.reid_loss.cq'] = torch.nn.functional.normalize(
        torch.randn((queue_size, 256), generator=g), dim=1)
    return state


@pytest.fixture(scope='module')
def seqnet_model():
    cfg = Config.fromfile(CONFIG)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


@pytest.mark.parametrize('old_rpn', [False, True])
def test_every_tensor_lands_where_mmps_expects_it(seqnet_model, old_rpn):
    source = seqnet_state_dict(old_rpn=old_rpn)
    # as many entries as SeqNet's own state dict (torchvision 0.28)
    assert len(source) == 416
    converted = convert_seqnet_state_dict(source)
    # exactly the model's keys and shapes
    seqnet_model.load_state_dict(converted, strict=True)
    state = seqnet_model.state_dict()
    conv = 'rpn.head.conv' if old_rpn else 'rpn.head.conv.0.0'
    pairs = {
        'backbone.layer3.5.bn3.running_var':
        source['backbone.layer3.5.bn3.running_var'],
        'rpn_head.rpn_conv.weight':
        source[f'{conv}.weight'],
        'rpn_head.rpn_reg.bias':
        source['rpn.head.bbox_pred.bias'],
        'roi_head.proposal_shared_head.layer4.2.conv2.weight':
        source['roi_heads.box_head.layer4.2.conv2.weight'],
        'roi_head.shared_head.layer4.0.downsample.1.running_mean':
        source['roi_heads.reid_head.layer4.0.downsample.1.running_mean'],
        # SeqNet's classes are (background, person), mmdet's (person, bg)
        'roi_head.proposal_bbox_head.fc_cls.weight':
        source['roi_heads.faster_rcnn_predictor.cls_score.weight'][[1, 0]],
        'roi_head.proposal_bbox_head.fc_cls.bias':
        source['roi_heads.faster_rcnn_predictor.cls_score.bias'][[1, 0]],
        # the person's 4 of the 8 regression rows
        'roi_head.proposal_bbox_head.fc_reg.weight':
        source['roi_heads.faster_rcnn_predictor.bbox_pred.weight'][4:],
        'roi_head.bbox_head.fc_reg.linear.bias':
        source['roi_heads.box_predictor.bbox_pred.0.bias'][4:],
        'roi_head.bbox_head.fc_reg.norm.running_var':
        source['roi_heads.box_predictor.bbox_pred.1.running_var'][4:],
        'roi_head.embedding_head.projections.1.0.weight':
        source['roi_heads.embedding_head.projectors.feat_res5.0.weight'],
        'roi_head.embedding_head.projections.0.1.bias':
        source['roi_heads.embedding_head.projectors.feat_res4.1.bias'],
        'roi_head.embedding_head.rescaler.weight':
        source['roi_heads.embedding_head.rescaler.weight'],
        'roi_head.embedding_head.loss_reid.lookup_table':
        source['roi_heads.reid_loss.lut'],
        'roi_head.embedding_head.loss_reid.queue':
        source['roi_heads.reid_loss.cq'],
    }
    for key, expected in pairs.items():
        assert torch.equal(state[key], expected), key
    assert int(state['roi_head.embedding_head.loss_reid.queue_ptr']) == 0


def test_unknown_and_missing_keys_are_named():
    source = seqnet_state_dict()
    source['roi_heads.extra_head.weight'] = torch.zeros(1)
    with pytest.raises(ValueError, match='roi_heads.extra_head.weight'):
        convert_seqnet_state_dict(source, 'x.pth')
    source = seqnet_state_dict()
    for key in [k for k in source if k.startswith('roi_heads.reid_head.')]:
        del source[key]
    with pytest.raises(ValueError, match="roi_heads.reid_head.layer4.*"):
        convert_seqnet_state_dict(source, 'x.pth')
    source = seqnet_state_dict()
    source['roi_heads.box_predictor.bbox_pred.0.weight'] = torch.zeros(4, 8)
    with pytest.raises(ValueError, match='8 rows'):
        convert_seqnet_state_dict(source, 'x.pth')


def test_tool_output_runs_in_person_searcher(tmp_path):
    # SeqNet's PRW checkpoint: 482 rows, mmps' PRW config 483
    source = seqnet_state_dict(num_pids=482, queue_size=500)
    seqnet_file = tmp_path / 'epoch_17.pth'
    torch.save(
        dict(model=source, optimizer=dict(), lr_scheduler=dict(), epoch=17),
        seqnet_file)
    out = tmp_path / 'seqnet_prw_mmps.pth'
    printed = run_script('tools/model_converters/seqnet2mmps.py',
                         str(seqnet_file), str(out), '--lookup-table-rows',
                         '483')
    assert 'lookup table of 483 identities' in printed
    checkpoint = torch.load(out, weights_only=True)
    assert checkpoint['meta']['source_epoch'] == 17
    table = checkpoint['state_dict'][
        'roi_head.embedding_head.loss_reid.lookup_table']
    assert table.shape == (483, 256)
    assert torch.equal(table[:482], source['roi_heads.reid_loss.lut'])
    assert not table[482].any()
    with pytest.raises(AssertionError, match='would drop identities'):
        run_script('tools/model_converters/seqnet2mmps.py', str(seqnet_file),
                   str(tmp_path / 'x.pth'), '--lookup-table-rows', '100')
    # it loads with the PRW config and searches
    image = np.random.default_rng(0).integers(
        0, 255, (120, 90, 3), dtype=np.uint8)
    searcher = PersonSearcher(
        osp.join(REPO, 'configs/seqnet/seqnet_r50_1xb5-18e_prw.py'),
        str(out),
        cfg_options={'model.backbone.init_cfg': None})
    assert searcher.cws
    # the config's CBGM context pass serves evaluation, not search
    assert not searcher.model.roi_head.with_query_context
    embeddings = searcher.embed_queries([image], np.array([[10, 10, 50, 100]]))
    assert embeddings.shape == (1, 256)
    np.testing.assert_allclose(np.linalg.norm(embeddings), 1, atol=1e-5)
