# Copyright (c) mmps contributors. All rights reserved.
from types import SimpleNamespace

import pytest
import torch
from mmengine.structures import InstanceData

from mmps.models.roi_heads import BACKGROUND_ID, EmbeddingHead
from mmps.registry import MODELS

OIM = dict(type='OIMLoss', num_person_ids=5, num_features=16, queue_size=4)


def _head(**kwargs):
    cfg = dict(
        type='EmbeddingHead',
        in_channels=8,
        embed_channels=16,
        loss_reid=OIM,
        init_cfg=None)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_forward_pools_projects_and_normalises():
    head = _head()
    assert isinstance(head, EmbeddingHead)
    x = torch.randn(3, 8, 7, 7)
    out = head(x)
    assert out.shape == (3, 16)
    expected = torch.nn.functional.normalize(
        head.projection(x.mean(dim=(2, 3))), dim=1)
    torch.testing.assert_close(out, expected)
    # pooled inputs are accepted as they are
    torch.testing.assert_close(head(x.mean(dim=(2, 3))), expected)


def test_flatten_mode_for_fpn_features():
    head = _head(with_avg_pool=False, roi_feat_size=7)
    assert head.projection.in_features == 8 * 7 * 7
    x = torch.randn(2, 8, 7, 7)
    expected = torch.nn.functional.normalize(
        head.projection(x.flatten(1)), dim=1)
    torch.testing.assert_close(head(x), expected)


def test_batch_norm_option():
    head = _head(norm_cfg=dict(type='BN1d'))
    head.train()
    out = head(torch.randn(4, 8, 7, 7))
    torch.testing.assert_close(out.norm(dim=1), torch.ones(4))
    # a single training RoI passes without the statistics of a batch
    assert head(torch.randn(1, 8, 7, 7)).shape == (1, 16)


def test_targets_follow_sampling_order():
    head = _head()
    sampling_results = [
        SimpleNamespace(
            pos_assigned_gt_inds=torch.tensor([1, 0, 1]),
            neg_priors=torch.zeros(2, 4)),
        SimpleNamespace(
            pos_assigned_gt_inds=torch.tensor([0]),
            neg_priors=torch.zeros(1, 4)),
    ]
    gts = [
        InstanceData(person_ids=torch.tensor([4, -1])),
        InstanceData(person_ids=torch.tensor([2])),
    ]
    targets = head.get_targets(sampling_results, gts)
    bg = BACKGROUND_ID
    assert targets.tolist() == [-1, 4, -1, bg, bg, 2, bg]

    embeddings = torch.nn.functional.normalize(torch.randn(7, 16), dim=1)
    head.eval()
    result = head.loss_and_target(embeddings, sampling_results, gts)
    # background rows never reach the loss
    expected = head.loss_reid(embeddings[[0, 1, 2, 5]],
                              torch.tensor([-1, 4, -1, 2]))
    torch.testing.assert_close(result['loss_reid']['loss_reid'], expected)


def test_missing_person_ids_is_a_clear_error():
    head = _head()
    sampling_results = [
        SimpleNamespace(
            pos_assigned_gt_inds=torch.tensor([0]),
            neg_priors=torch.zeros(0, 4))
    ]
    with pytest.raises(KeyError, match='person_ids'):
        head.get_targets(sampling_results,
                         [InstanceData(labels=torch.tensor([0]))])
