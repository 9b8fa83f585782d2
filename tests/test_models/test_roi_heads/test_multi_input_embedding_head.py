# Copyright (c) mmps contributors. All rights reserved.
import pytest
import torch

from mmps.registry import MODELS
from ._utils import random_bn_statistics


def test_forward_is_max_pool_projection_bn_concat_normalise():
    head = MODELS.build(
        dict(
            type='MultiInputEmbeddingHead',
            in_channels=(6, 10),
            embed_channels=5,
            loss_reid=dict(
                type='OIMLoss', num_person_ids=4, num_features=5,
                queue_size=3))).eval()
    assert head.num_inputs == 2
    generator = torch.Generator().manual_seed(0)
    random_bn_statistics(head, generator)
    res4 = torch.randn(7, 6, 4, 3, generator=generator)
    res5 = torch.randn(7, 10, 2, 2, generator=generator)
    embeddings = head([res4, res5])

    parts = []
    for x, (linear, norm) in zip([res4, res5], head.projections):
        # the maximum over positions, by a slow loop over the RoIs
        pooled = torch.stack([roi.flatten(1).max(dim=1).values for roi in x])
        y = pooled @ linear.weight.T + linear.bias
        parts.append((y - norm.running_mean) /
                     torch.sqrt(norm.running_var + norm.eps) * norm.weight +
                     norm.bias)
    # the remainder of the split goes to the last input, as SeqNet's
    assert [p.shape[1] for p in parts] == [2, 3]
    expected = torch.cat(parts, 1)
    expected = expected / expected.norm(dim=1, keepdim=True)
    torch.testing.assert_close(embeddings, expected)
    # pooled inputs give the same
    torch.testing.assert_close(
        head([res4.amax(dim=(2, 3)),
              res5.amax(dim=(2, 3))]), embeddings)

    with pytest.raises(ValueError, match='expects 2 features'):
        head([res5])
