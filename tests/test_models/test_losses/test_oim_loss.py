# Copyright (c) mmps contributors. All rights reserved.
import os
import socket

import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from mmps.models.losses import OIMLoss
from mmps.registry import MODELS


def _unit(rows, dim, generator):
    return F.normalize(torch.randn(rows, dim, generator=generator), dim=1)


def _loss_with_memory(num_ids=6, dim=8, queue_size=5, scale=30.0, seed=0):
    generator = torch.Generator().manual_seed(seed)
    loss = OIMLoss(
        num_person_ids=num_ids,
        num_features=dim,
        queue_size=queue_size,
        momentum=0.5,
        scale=scale)
    loss.lookup_table.copy_(_unit(num_ids, dim, generator))
    loss.queue.copy_(_unit(queue_size, dim, generator))
    return loss, generator


def _reference_update(lookup_table, queue, queue_ptr, features, person_ids,
                      momentum):
    """Slow reference of the documented update, one identity at a time."""
    lookup_table = lookup_table.double().numpy().copy()
    queue = queue.double().numpy().copy()
    features = features.double().numpy()
    person_ids = person_ids.numpy()
    for pid in sorted(set(person_ids.tolist())):
        if pid < 0:
            continue
        mean = features[person_ids == pid].mean(axis=0)
        row = momentum * lookup_table[pid] + (1 - momentum) * mean
        lookup_table[pid] = row / np.linalg.norm(row)
    for feature, pid in zip(features, person_ids):
        if pid == -1:
            queue[queue_ptr] = feature
            queue_ptr = (queue_ptr + 1) % len(queue)
    return lookup_table, queue, queue_ptr


def test_build_from_registry():
    loss = MODELS.build(
        dict(type='OIMLoss', num_person_ids=7, num_features=4, queue_size=3))
    assert isinstance(loss, OIMLoss)
    assert loss.lookup_table.shape == (7, 4)
    assert loss.queue.shape == (3, 4)
    assert set(loss.state_dict()) == {'lookup_table', 'queue', 'queue_ptr'}


def test_loss_value_matches_softmax_cross_entropy():
    loss, generator = _loss_with_memory()
    features = _unit(4, 8, generator)
    person_ids = torch.tensor([2, -1, 0, 2])
    loss.eval()
    value = loss(features, person_ids)

    memory = torch.cat([loss.lookup_table, loss.queue]).double().numpy()
    expected = []
    for feature, pid in zip(features.double().numpy(), person_ids.tolist()):
        if pid < 0:
            continue
        logits = 30.0 * memory @ feature
        log_norm = np.log(np.exp(logits - logits.max()).sum()) + logits.max()
        expected.append(log_norm - logits[pid])
    assert value.item() == pytest.approx(np.mean(expected), rel=1e-5)


def test_gradient_matches_paper_formula():
    scale = 10.0
    loss, generator = _loss_with_memory(scale=scale)
    features = _unit(5, 8, generator).double().requires_grad_()
    person_ids = torch.tensor([1, 4, -1, 1, 5])
    loss.double().eval()
    loss(features, person_ids).backward()

    lookup_table = loss.lookup_table.numpy()
    queue = loss.queue.numpy()
    num_labeled = int((person_ids >= 0).sum())
    for i, pid in enumerate(person_ids.tolist()):
        x = features.detach().numpy()[i]
        if pid < 0:
            np.testing.assert_allclose(features.grad[i].numpy(), 0.0)
            continue
        logits = scale * np.concatenate([lookup_table @ x, queue @ x])
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        p, q = probs[:len(lookup_table)], probs[len(lookup_table):]
        others = [j for j in range(len(lookup_table)) if j != pid]
        # (1 / tau)[(1 - p_t) v_t - sum_{j != t} p_j v_j - sum_k q_k u_k]
        ascent = scale * ((1 - p[pid]) * lookup_table[pid] -
                          (p[others, None] * lookup_table[others]).sum(0) -
                          (q[:, None] * queue).sum(0))
        # the loss is the mean over labeled RoIs; the formula is the
        # ascent direction of the log-likelihood
        np.testing.assert_allclose(
            features.grad[i].numpy(), -ascent / num_labeled, atol=1e-10)


def test_memory_update_matches_reference():
    loss, generator = _loss_with_memory(num_ids=6, dim=8, queue_size=5)
    features = _unit(7, 8, generator)
    # identity 3 seen three times, 0 once, two unlabeled persons
    person_ids = torch.tensor([3, -1, 0, 3, -1, 3, 5])
    expected = _reference_update(loss.lookup_table, loss.queue, 0, features,
                                 person_ids, 0.5)
    loss.train()
    loss(features, person_ids)
    np.testing.assert_allclose(
        loss.lookup_table.numpy(), expected[0], atol=1e-6)
    np.testing.assert_allclose(loss.queue.numpy(), expected[1], atol=1e-6)
    assert int(loss.queue_ptr) == expected[2] == 2
    # rows of identities not in the batch are untouched
    untouched = [1, 2, 4]
    np.testing.assert_array_equal(loss.lookup_table.numpy()[untouched],
                                  expected[0][untouched].astype(np.float32))
    np.testing.assert_allclose(
        np.linalg.norm(loss.lookup_table.numpy()[[0, 3, 5]], axis=1),
        1.0,
        rtol=1e-6)


def test_sequential_update_matches_a_loop_over_rois():
    loss, generator = _loss_with_memory(num_ids=6, dim=8, queue_size=5)
    loss.table_update = 'sequential'
    features = _unit(9, 8, generator)
    # identity 3 four times, 0 twice, 5 once, unlabeled persons between
    person_ids = torch.tensor([3, -1, 0, 3, 3, -1, 0, 5, 3])
    # the references' rule: one momentum step per RoI, in batch order
    table = loss.lookup_table.double().numpy().copy()
    for x, pid in zip(features.double().numpy(), person_ids.tolist()):
        if pid >= 0:
            row = 0.5 * table[pid] + 0.5 * x
            table[pid] = row / np.linalg.norm(row)
    mean_rule = _reference_update(loss.lookup_table, loss.queue, 0, features,
                                  person_ids, 0.5)[0]
    loss.train()
    loss(features, person_ids)
    np.testing.assert_allclose(loss.lookup_table.numpy(), table, atol=1e-6)
    # the two rules differ where an identity is seen several times
    assert np.abs(table[3] - mean_rule[3]).max() > 1e-2
    np.testing.assert_allclose(table[5], mean_rule[5], atol=1e-6)
    assert int(loss.queue_ptr) == 2


def test_unknown_table_update_raises():
    with pytest.raises(ValueError, match='table_update'):
        OIMLoss(num_person_ids=2, table_update='average')


def test_queue_wraps_around():
    loss = OIMLoss(num_person_ids=2, num_features=3, queue_size=5)
    loss.train()
    # each feature is tagged by its value to tell the entries apart
    for tags in ([1., 2., 3.], [4., 5., 6., 7.]):
        features = torch.tensor(tags)[:, None].repeat(1, 3)
        loss(features, torch.full((len(tags), ), -1))
    # slots: 0..2 <- 1, 2, 3; 3, 4 <- 4, 5; wrap: 0, 1 <- 6, 7
    np.testing.assert_array_equal(loss.queue[:, 0].numpy(), [6, 7, 3, 4, 5])
    assert int(loss.queue_ptr) == 2


def test_queue_longer_batch_keeps_the_last_entries():
    loss = OIMLoss(num_person_ids=2, num_features=1, queue_size=3)
    loss.train()
    loss(torch.tensor([[1.], [2.]]), torch.tensor([-1, -1]))
    loss(torch.arange(3., 8.)[:, None], torch.full((5, ), -1))
    # 7 entries through a queue of 3 starting at slot 0: 5, 6, 7 remain in
    # the slots the sequential reference writes them to
    expected = _reference_update(loss.lookup_table, torch.zeros(3, 1), 0,
                                 torch.arange(1., 8.)[:, None],
                                 torch.full((7, ), -1), 0.5)
    np.testing.assert_array_equal(loss.queue.numpy(), expected[1])
    assert int(loss.queue_ptr) == expected[2] == 1


def test_eval_mode_does_not_update():
    loss, generator = _loss_with_memory()
    before = {k: v.clone() for k, v in loss.state_dict().items()}
    loss.eval()
    loss(_unit(3, 8, generator), torch.tensor([0, -1, 1]))
    for key, value in loss.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_pointer_survives_state_dict():
    loss, generator = _loss_with_memory(queue_size=5)
    loss.train()
    loss(_unit(3, 8, generator), torch.tensor([-1, -1, -1]))
    restored = OIMLoss(num_person_ids=6, num_features=8, queue_size=5)
    restored.load_state_dict(loss.state_dict())
    assert int(restored.queue_ptr) == 3
    assert torch.equal(restored.queue, loss.queue)
    assert torch.equal(restored.lookup_table, loss.lookup_table)


def test_only_unlabeled_gives_zero_loss_with_gradient():
    loss, generator = _loss_with_memory()
    features = _unit(2, 8, generator).requires_grad_()
    value = loss(features, torch.tensor([-1, -1]))
    value.backward()
    assert value.item() == 0.0
    assert torch.equal(features.grad, torch.zeros_like(features))


@pytest.mark.parametrize('bad_id', [6, 100, -3])
def test_out_of_range_label_raises(bad_id):
    loss, generator = _loss_with_memory(num_ids=6)
    with pytest.raises(ValueError, match='num_person_ids=6'):
        loss(_unit(2, 8, generator), torch.tensor([0, bad_id]))


def test_bad_shapes_raise():
    loss, generator = _loss_with_memory(dim=8)
    with pytest.raises(ValueError, match=r'\(N, 8\)'):
        loss(torch.randn(2, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='one person id per feature'):
        loss(_unit(2, 8, generator), torch.tensor([0, 1, 2]))


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _distributed_worker(rank, world_size, port, inputs, out_dir):
    torch_dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world_size)
    try:
        loss = OIMLoss(num_person_ids=6, num_features=8, queue_size=5)
        loss.train()
        for features, person_ids in inputs[rank]:
            loss(features, person_ids)
        torch.save(loss.state_dict(), os.path.join(out_dir, f'{rank}.pth'))
    finally:
        torch_dist.destroy_process_group()


def test_distributed_ranks_keep_identical_memory(tmp_path):
    generator = torch.Generator().manual_seed(0)
    # two steps; the ranks see different identities and batch sizes
    inputs = [
        [(_unit(3, 8, generator), torch.tensor([0, -1, 2])),
         (_unit(2, 8, generator), torch.tensor([-1, -1]))],
        [(_unit(4, 8, generator), torch.tensor([2, 5, -1, -1])),
         (_unit(1, 8, generator), torch.tensor([0]))],
    ]
    mp.spawn(
        _distributed_worker,
        args=(2, _free_port(), inputs, str(tmp_path)),
        nprocs=2,
        join=True)
    states = [torch.load(tmp_path / f'{rank}.pth') for rank in range(2)]
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key

    # and equal to one process seeing both ranks' batches, in rank order
    single = OIMLoss(num_person_ids=6, num_features=8, queue_size=5)
    single.train()
    for step in range(2):
        single(
            torch.cat([inputs[0][step][0], inputs[1][step][0]]),
            torch.cat([inputs[0][step][1], inputs[1][step][1]]))
    for key, value in single.state_dict().items():
        torch.testing.assert_close(states[0][key], value, msg=key)
    assert not torch.equal(states[0]['lookup_table'],
                           torch.zeros_like(states[0]['lookup_table']))
