# Copyright (c) mmps contributors. All rights reserved.
import mmdet.registry as mmdet_registry
import pytest
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.registry import Registry, init_default_scope

import mmps.registry as mmps_registry
from mmps.models import PersonSearch
from mmps.registry import MODELS
from mmps.testing import get_config_file, get_tiny_model_cfg
from mmps.utils import fall_back_to_gloo, register_all_modules

REGISTRY_NAMES = [
    name for name, value in vars(mmdet_registry).items()
    if isinstance(value, Registry) and not name.startswith('MMENGINE_')
]


def test_every_mmdet_registry_has_an_mmps_child():
    assert len(REGISTRY_NAMES) == 20
    for name in REGISTRY_NAMES:
        child = getattr(mmps_registry, name)
        assert child.scope == 'mmps', name
        assert child.parent is getattr(mmdet_registry, name), name


def test_register_all_modules_sets_the_mmps_scope():
    register_all_modules(init_default_scope=True)
    assert DefaultScope.get_current_instance().scope_name == 'mmps'
    assert MODELS.get('PersonSearch') is PersonSearch
    # mmdet's modules are found through the parent registry
    assert MODELS.get('ResNet') is mmdet_registry.MODELS.get('ResNet')
    assert MODELS.get('mmdet.RPNHead') is not None


def test_model_config_builds_through_the_registry():
    init_default_scope('mmps')
    cfg = Config.fromfile(get_config_file('_base_/models/oim_r50-caffe-c4.py'))
    # inherited from mmdet's C4 Faster R-CNN, changed only where needed
    assert cfg.model.backbone.depth == 50
    assert cfg.model.roi_head.bbox_roi_extractor.roi_layer.type == 'RoIAlign'
    assert cfg.model.roi_head.bbox_roi_extractor.roi_layer.output_size == 14
    assert cfg.model.roi_head.bbox_head.num_classes == 1
    rcnn = cfg.model.train_cfg.rcnn
    assert tuple(rcnn.assigner.neg_iou_thr) == (0.1, 0.5)
    assert (rcnn.sampler.num, rcnn.sampler.pos_fraction) == (128, 0.5)
    assert cfg.model.test_cfg.rpn.max_per_img == 300
    oim = cfg.model.roi_head.embedding_head.loss_reid
    assert (oim.num_person_ids, oim.queue_size, oim.momentum,
            oim.scale) == (5532, 5000, 0.5, 30.0)

    model = MODELS.build(get_tiny_model_cfg())
    assert isinstance(model, PersonSearch)
    assert type(model.roi_head).__name__ == 'PersonSearchRoIHead'
    assert type(model.roi_head.shared_head).__name__ == 'ResLayer'


def test_fall_back_to_gloo_on_a_cpu_machine():
    cfg = Config(dict(launcher='none'))
    fall_back_to_gloo(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    kept = Config(
        dict(launcher='none', env_cfg=dict(dist_cfg=dict(backend='mpi'))))
    fall_back_to_gloo(kept)
    assert kept.env_cfg.dist_cfg.backend == 'mpi'
    with pytest.raises(RuntimeError, match="launcher 'slurm' needs CUDA"):
        fall_back_to_gloo(Config(dict(launcher='slurm')))
