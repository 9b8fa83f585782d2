# Copyright (c) mmps contributors. All rights reserved.
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope

from mmps.models import PersonSearch
from mmps.models.losses import OIMLoss
from mmps.registry import MODELS

CONFIG_ROOT = osp.join(osp.dirname(__file__), '..', '..', 'configs')
CONFIGS = sorted(
    osp.relpath(path, CONFIG_ROOT)
    for path in glob.glob(osp.join(CONFIG_ROOT, '*', '*.py'))
    if '_base_' not in path)


def _without_pretrained(cfg):
    """Drop pretrained weights: nothing can be downloaded in the tests."""
    if isinstance(cfg, (dict, ConfigDict)):
        for key, value in cfg.items():
            if key == 'init_cfg' and isinstance(value, (dict, ConfigDict)) \
                    and value.get('type') == 'Pretrained':
                cfg[key] = None
            else:
                _without_pretrained(value)
    elif isinstance(cfg, list):
        for item in cfg:
            _without_pretrained(item)
    return cfg


def test_every_config_is_listed():
    assert 'oim/oim_r50-caffe-c4_1xb5-20e_cuhk-sysu.py' in CONFIGS
    assert 'oim/oim_r18-w32-c4_1xb4-16e_synthetic.py' in CONFIGS
    assert len(CONFIGS) >= 5


@pytest.mark.parametrize('name', CONFIGS)
def test_config_parses_and_builds(name):
    cfg = Config.fromfile(osp.join(CONFIG_ROOT, name))
    assert cfg.default_scope == 'mmps'
    init_default_scope('mmps')
    model = MODELS.build(_without_pretrained(cfg.model))
    assert isinstance(model, PersonSearch)
    oim = [m for m in model.modules() if isinstance(m, OIMLoss)]
    assert len(oim) == 1
    # one test run scores the search: gallery and queries together
    test_set = cfg.test_dataloader.dataset
    assert (test_set.type, test_set.split) == ('GalleryQueryDataset', 'test')
    assert cfg.test_evaluator.type == 'PersonSearchMetric'
    # nothing is chosen on the test data: validation runs on the training
    # identities' validation split, and no checkpoint is kept for a score
    val_set = cfg.val_dataloader.dataset
    assert (val_set.type, val_set.split) == ('GalleryQueryDataset', 'val')
    for key in ('type', 'data_root', 'pipeline'):
        assert val_set.dataset[key] == test_set.dataset[key], key
    assert cfg.val_evaluator.protocol == 'prw'
    assert 'save_best' not in cfg.default_hooks.checkpoint


def test_recipe_values():
    cfg = Config.fromfile(
        osp.join(CONFIG_ROOT, 'oim/oim_r50-caffe-c4_1xb5-20e_cuhk-sysu.py'))
    assert cfg.train_dataloader.batch_size == 5
    assert cfg.optim_wrapper.optimizer.lr == 0.003
    assert cfg.optim_wrapper.optimizer.weight_decay == 5e-4
    assert cfg.optim_wrapper.clip_grad.max_norm == 10
    assert cfg.train_cfg.max_epochs == 20
    assert cfg.param_scheduler[1].milestones == [16]
    assert cfg.train_dataloader.dataset.pipeline[2].scale == (1500, 900)
    prw = Config.fromfile(
        osp.join(CONFIG_ROOT, 'oim/oim_r50-caffe-c4_1xb5-18e_prw.py'))
    oim = prw.model.roi_head.embedding_head.loss_reid
    assert (oim.num_person_ids, oim.queue_size) == (483, 500)
    assert prw.train_cfg.max_epochs == 18
    assert prw.test_evaluator.protocol == 'prw'
    assert prw.test_dataloader.dataset.dataset.type == 'PRWDataset'
    assert prw.test_dataloader.dataset.dataset.pipeline[1].type == 'Resize'
    assert prw.val_evaluator.cross_camera


def _batch_norms(module):
    return [
        m for m in module.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    ]


def test_batch_norm_follows_the_claimed_reference():
    """SeqNet-style OIM configs train every BN but the stem's, as SeqNet's
    code; the paper config freezes the backbone's and trains the conv5
    head's, as serend1p1ty/person_search (the Caffe code's)."""
    init_default_scope('mmps')
    for name, backbone_trains in [
        ('oim/oim_r50-caffe-c4_1xb5-20e_cuhk-sysu.py', True),
        ('oim/oim_r50-caffe-c4_paper_1xb1-ga2-50k_cuhk-sysu.py', False)
    ]:
        cfg = Config.fromfile(osp.join(CONFIG_ROOT, name))
        model = MODELS.build(_without_pretrained(cfg.model)).train()
        stem = model.backbone.norm1
        assert not stem.training and not stem.weight.requires_grad
        assert not model.backbone.conv1.weight.requires_grad
        assert model.backbone.layer1[0].conv1.weight.requires_grad
        for norm in _batch_norms(model.backbone.layer1):
            assert norm.training == norm.weight.requires_grad \
                == backbone_trains, name
        for norm in _batch_norms(model.roi_head.shared_head):
            assert norm.training and norm.weight.requires_grad, name


def test_paper_recipe_values():
    cfg = Config.fromfile(
        osp.join(CONFIG_ROOT,
                 'oim/oim_r50-caffe-c4_paper_1xb1-ga2-50k_cuhk-sysu.py'))
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.optim_wrapper.accumulative_counts == 2
    assert cfg.optim_wrapper.optimizer.lr == 0.001
    assert 'clip_grad' not in cfg.optim_wrapper
    # 50k updates of 2 images, x0.1 after 40k: counted in iterations
    assert cfg.train_cfg.max_iters == 100000
    assert [s.type for s in cfg.param_scheduler] == ['MultiStepLR']
    assert cfg.param_scheduler[0].milestones == [80000]
    for loader in ('train', 'val', 'test'):
        pipeline = cfg[f'{loader}_dataloader'].dataset.get(
            'pipeline') or cfg[f'{loader}_dataloader'].dataset.dataset.pipeline
        assert [t.scale for t in pipeline if t.type == 'Resize'] == \
            [(1000, 600)], loader
    rcnn = cfg.model.train_cfg.rcnn
    assert (rcnn.sampler.num, rcnn.sampler.pos_fraction) == (128, 0.25)
    assert rcnn.assigner.neg_iou_thr == 0.5  # [0, 0.5)
    assert cfg.model.roi_head.bbox_roi_extractor.roi_layer == dict(
        type='RoIPool', output_size=14)
    oim = cfg.model.roi_head.embedding_head.loss_reid
    assert (oim.scale, oim.table_update) == (10.0, 'sequential')
    assert cfg.model.test_cfg.rcnn.embedding_rois == 'proposals'

    # the optimiser: biases at twice the learning rate, no weight decay on
    # biases and BN
    from mmengine.optim import build_optim_wrapper
    init_default_scope('mmps')
    model = MODELS.build(_without_pretrained(cfg.model))
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    groups = {
        id(p): group
        for group in optim_wrapper.optimizer.param_groups
        for p in group['params']
    }
    head = model.roi_head
    conv = groups[id(head.shared_head.layer4[0].conv1.weight)]
    bias = groups[id(head.bbox_head.fc_cls.bias)]
    norm = groups[id(head.shared_head.layer4[0].bn1.weight)]
    assert (conv['lr'], conv['weight_decay']) == (0.001, 5e-4)
    assert (bias['lr'], bias['weight_decay']) == (0.002, 0)
    assert (norm['lr'], norm['weight_decay']) == (0.001, 0)
