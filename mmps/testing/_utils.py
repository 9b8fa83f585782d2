# Copyright (c) mmps contributors. All rights reserved.
import copy
import os.path as osp
from typing import List, Optional, Sequence

import torch
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config, ConfigDict

from mmps.datasets import dataset_part_configs


def get_config_file(name: str) -> str:
    """Path of a config shipped with mmps.

    Configs are looked up in the source checkout (``configs/``) and in the
    installed package (``mmps/.mim/configs``).

    Args:
        name (str): Path relative to ``configs/``, e.g.
            ``'_base_/models/oim_r50-caffe-c4.py'``.

    Returns:
        str: The absolute path of the config file.
    """
    package_root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    candidates = [
        osp.join(osp.dirname(package_root), 'configs', name),
        osp.join(package_root, '.mim', 'configs', name),
    ]
    for candidate in candidates:
        if osp.isfile(candidate):
            return candidate
    raise FileNotFoundError(f'config {name!r} not found in {candidates}')


#: A synthetic dataset small enough for CPU tests of the tools: TestG50
#: needs 51 test images, hence the distractor images.
TINY_SYNTHETIC_DATA = dict(
    num_train_ids=6,
    num_test_ids=4,
    num_distractor_images=48,
    image_size=(96, 72),
    seed=1)
#: Its validation split: 2 of the 6 training identities (nearly every image
#: shows one of them, so no distractors).
TINY_VAL_SPLIT = dict(num_ids=2, num_distractor_images=0)


def get_tiny_synthetic_config(
        data_root: str,
        max_epochs: int = 2,
        val_interval: int = 1,
        config: str = 'oim/oim_r18-w32-c4_1xb4-16e_synthetic.py') -> Config:
    """A quick-start config on a tiny synthetic dataset, for CPU tests.

    Loaders run in the main process, images are 96 x 72, the OIM table has
    the 6 training identities, every iteration is logged with its own
    losses, and randomness is seeded and deterministic.

    Args:
        data_root (str): Where the dataset is (or is generated).
        max_epochs (int): Training epochs. Defaults to 2.
        val_interval (int): Epochs between validations. Defaults to 1.
        config (str): A synthetic-data config, relative to ``configs/``.
            Defaults to the OIM quick start.

    Returns:
        Config: The full config (dump it to get a file for the tools).
    """
    cfg = Config.fromfile(get_config_file(config))
    for dataset in [cfg.train_dataloader.dataset] + [
            part for loader in (cfg.val_dataloader, cfg.test_dataloader)
            for part in dataset_part_configs(loader.dataset)
    ]:
        dataset.data_root = data_root
        dataset.synthetic_cfg = copy.deepcopy(TINY_SYNTHETIC_DATA)
        if 'val_split' in dataset:
            dataset.val_split = copy.deepcopy(TINY_VAL_SPLIT)
        for transform in dataset.pipeline:
            if transform.type == 'Resize':
                transform.scale = TINY_SYNTHETIC_DATA['image_size']
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.train_dataloader.batch_size = 2
    cfg.model.roi_head.embedding_head.loss_reid.update(
        num_person_ids=TINY_SYNTHETIC_DATA['num_train_ids'], queue_size=16)
    cfg.train_cfg.update(max_epochs=max_epochs, val_interval=val_interval)
    cfg.default_hooks.logger.interval = 1
    # log each iteration's own losses, not a running mean
    cfg.log_processor.window_size = 1
    cfg.randomness = dict(seed=0, deterministic=True)
    return cfg


def get_tiny_model_cfg(name: str = '_base_/models/oim_r50-caffe-c4.py',
                       num_person_ids: int = 8,
                       queue_size: int = 16) -> ConfigDict:
    """A small version of a C4 person search model, for CPU tests.

    The config is loaded through its ``_base_`` chain; the ResNet-50 backbone
    and conv5 heads (SeqNet has two) become ResNet-18 ones without
    pretrained weights.

    Args:
        name (str): Config path relative to ``configs/``.
        num_person_ids (int): Rows of the OIM lookup table. Defaults to 8.
        queue_size (int): Length of the OIM queue. Defaults to 16.

    Returns:
        ConfigDict: The model config.
    """
    model = copy.deepcopy(Config.fromfile(get_config_file(name)).model)
    model.backbone.update(depth=18, init_cfg=None, style='pytorch')
    model.rpn_head.update(in_channels=256, feat_channels=64)
    model.roi_head.shared_head.update(depth=18, init_cfg=None, style='pytorch')
    model.roi_head.bbox_roi_extractor.out_channels = 256
    model.roi_head.bbox_head.in_channels = 512
    # the norm-aware head embeds the pooled res4 and res5 features
    model.roi_head.embedding_head.in_channels = (256, 512) if \
        model.roi_head.embedding_head.type == 'NormAwareEmbeddingHead' \
        else 512
    if 'proposal_shared_head' in model.roi_head:  # SeqNet's first stage
        model.roi_head.proposal_shared_head.update(depth=18, init_cfg=None)
        model.roi_head.proposal_bbox_head.in_channels = 512
    model.roi_head.embedding_head.loss_reid.update(
        num_person_ids=num_person_ids, queue_size=queue_size)
    return model


def demo_person_search_inputs(
        batch_size: int = 2,
        image_shapes: Sequence = (3, 128, 128),
        num_items: Optional[List[int]] = None,
        person_ids: Optional[List[List[int]]] = None,
        query_flags: Optional[List[bool]] = None) -> dict:
    """Random packed inputs with person ground truth, like a data loader's.

    Args:
        batch_size (int): Number of images. Defaults to 2.
        image_shapes (Sequence): ``(C, H, W)`` of all images, or one per
            image.
        num_items (list[int], optional): Boxes per image.
        person_ids (list[list[int]], optional): Person id of each box;
            defaults to ``-1`` (unlabeled) for all.
        query_flags (list[bool], optional): ``is_query`` of each image.

    Returns:
        dict: ``inputs`` (list of uint8 tensors) and ``data_samples`` (list
        of :obj:`DetDataSample`) with ``gt_instances.person_ids`` and label 0.
    """
    packed = demo_mm_inputs(
        batch_size, image_shapes, num_items=num_items, with_mask=False)
    for i, sample in enumerate(packed['data_samples']):
        num_boxes = len(sample.gt_instances)
        sample.gt_instances.labels = torch.zeros(num_boxes, dtype=torch.long)
        ids = person_ids[i] if person_ids is not None else [-1] * num_boxes
        if len(ids) != num_boxes:
            raise ValueError(f'image {i} has {num_boxes} boxes but '
                             f'{len(ids)} person ids')
        sample.gt_instances.person_ids = torch.tensor(ids, dtype=torch.long)
        if query_flags is not None:
            sample.set_metainfo(dict(is_query=query_flags[i]))
    return packed
