# Copyright (c) mmps contributors. All rights reserved.
import glob
import os.path as osp

import pytest
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
    assert 'oim/oim_r50-c4_1xb5-20e_cuhk-sysu.py' in CONFIGS
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
        osp.join(CONFIG_ROOT, 'oim/oim_r50-c4_1xb5-20e_cuhk-sysu.py'))
    assert cfg.train_dataloader.batch_size == 5
    assert cfg.optim_wrapper.optimizer.lr == 0.003
    assert cfg.optim_wrapper.optimizer.weight_decay == 5e-4
    assert cfg.optim_wrapper.clip_grad.max_norm == 10
    assert cfg.train_cfg.max_epochs == 20
    assert cfg.param_scheduler[1].milestones == [16]
    assert cfg.train_dataloader.dataset.pipeline[2].scale == (1500, 900)
    prw = Config.fromfile(
        osp.join(CONFIG_ROOT, 'oim/oim_r50-c4_1xb5-18e_prw.py'))
    oim = prw.model.roi_head.embedding_head.loss_reid
    assert (oim.num_person_ids, oim.queue_size) == (483, 500)
    assert prw.train_cfg.max_epochs == 18
    assert prw.test_evaluator.protocol == 'prw'
    assert prw.test_dataloader.dataset.dataset.type == 'PRWDataset'
    assert prw.test_dataloader.dataset.dataset.pipeline[1].type == 'Resize'
    assert prw.val_evaluator.cross_camera
