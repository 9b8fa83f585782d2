# Copyright (c) mmps contributors. All rights reserved.
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData

from mmps.models.roi_heads import NormAwareEmbeddingHead
from mmps.models.roi_heads.embedding_heads import split_channels
from mmps.registry import MODELS
from ._utils import random_bn_statistics


def _head(**kwargs):
    cfg = dict(
        type='NormAwareEmbeddingHead',
        in_channels=(6, 10),
        embed_channels=5,
        loss_reid=dict(
            type='OIMLoss', num_person_ids=4, num_features=5, queue_size=3))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_split_channels():
    assert split_channels(256, 2) == [128, 128]
    assert split_channels(5, 2) == [2, 3]
    assert split_channels(10, 3) == [3, 3, 4]


def test_forward_is_the_papers_norm_aware_embedding():
    head = _head().eval()
    generator = torch.Generator().manual_seed(0)
    random_bn_statistics(head, generator)
    res4 = torch.randn(7, 6, generator=generator)
    res5 = torch.randn(7, 10, 1, 1, generator=generator)
    embeddings, logits = head([res4, res5])

    def bn(x, module):
        return (x - module.running_mean) / torch.sqrt(
            module.running_var + module.eps) * module.weight + module.bias

    parts = []
    for x, (linear, norm) in zip([res4, res5.flatten(1)], head.projections):
        parts.append(bn(x @ linear.weight.T + linear.bias, norm))
    assert [p.shape[1] for p in parts] == [2, 3]
    x = torch.cat(parts, 1)
    norms = x.norm(dim=1, keepdim=True)
    torch.testing.assert_close(embeddings, x / norms)
    torch.testing.assert_close(logits, bn(norms, head.rescaler)[:, 0])
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(7))


def test_init_follows_nae():
    head = _head(in_channels=(64, 64), embed_channels=64)
    head.init_weights()
    for linear, norm in head.projections:
        assert abs(float(linear.weight.detach().std()) - 0.01) < 0.003
        assert abs(float(norm.weight.detach().std()) - 0.01) < 0.005
        assert float(linear.bias.detach().abs().max()) == 0.0
    assert float(head.rescaler.weight.detach()) == 1.0


def test_wrong_number_of_inputs():
    with pytest.raises(ValueError, match='expects 2 features'):
        _head()([torch.zeros(2, 6)])


def test_losses_match_their_formulas():
    head = _head().train()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        head.loss_reid.lookup_table.copy_(
            F.normalize(torch.randn(4, 5, generator=generator), dim=1))
    embeddings = F.normalize(torch.randn(5, 5, generator=generator), dim=1)
    logits = torch.randn(5, generator=generator)
    # gts of ids 2 and -1: RoIs 0, 1 on gt 0, RoI 2 on gt 1, RoIs 3, 4
    # background
    result = SimpleNamespace(
        pos_assigned_gt_inds=torch.tensor([0, 0, 1]),
        neg_priors=torch.zeros(2, 4))
    gt = InstanceData(person_ids=torch.tensor([2, -1]))
    table = head.loss_reid.lookup_table.clone()
    losses = head.loss_and_target(embeddings, [result], [gt],
                                  logits)['loss_reid']
    # OIM on the two RoIs of id 2 (against the table before the update)
    labeled = embeddings[:2]
    reid = F.cross_entropy(
        30 * labeled @ torch.cat([table, torch.zeros(3, 5)]).T,
        torch.tensor([2, 2]))
    torch.testing.assert_close(losses['loss_reid'], reid)
    # binary cross-entropy of the norms: persons 1, background 0
    target = torch.tensor([1., 1., 1., 0., 0.])
    expected = -np.mean([
        t * np.log(1 / (1 + np.exp(-z))) + (1 - t) * np.log(1 - 1 /
                                                            (1 + np.exp(-z)))
        for t, z in zip(target.tolist(), logits.tolist())
    ])
    assert float(losses['loss_cls']) == pytest.approx(expected, rel=1e-5)


def test_registered():
    assert MODELS.get('NormAwareEmbeddingHead') is NormAwareEmbeddingHead
