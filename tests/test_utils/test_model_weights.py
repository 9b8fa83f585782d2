# Copyright (c) mmps contributors. All rights reserved.
"""A checkpoint's weights fit the model exactly, or the misfits are named."""
import pytest
import torch
import torch.nn as nn

from mmps.models.losses import OIMLoss
from mmps.utils import load_model_checkpoint, load_model_state, model_weights


class Tiny(nn.Module):
    """A conv, a BatchNorm and an OIM loss with its memory buffers."""

    def __init__(self, num_person_ids=4):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)
        self.bn = nn.BatchNorm2d(2)
        self.loss_reid = OIMLoss(
            num_person_ids=num_person_ids, queue_size=3, num_features=2)


def trained(num_person_ids=4) -> dict:
    """A state dict of a Tiny whose every value differs from a new one's."""
    torch.manual_seed(1)
    model = Tiny(num_person_ids)
    state = model.state_dict()
    for value in state.values():
        value.copy_(torch.rand_like(value.float()).to(value.dtype) + 2)
    return state


def test_a_fitting_checkpoint_loads_every_tensor(tmp_path):
    state = trained()
    assert {
        'loss_reid.lookup_table', 'loss_reid.queue', 'loss_reid.queue_ptr'
    } <= set(state)
    path = str(tmp_path / 'model.pth')
    # saved from a distributed (wrapped) model
    torch.save(
        dict(state_dict={
            f'module.{k}': v
            for k, v in state.items()
        }), path)
    model = Tiny()
    checkpoint = load_model_checkpoint(model, path)
    assert set(checkpoint) == {'state_dict'}
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_renamed_and_foreign_keys_are_named(tmp_path):
    state = trained()
    state['backbone.conv.weight'] = state.pop('conv.weight')
    path = str(tmp_path / 'model.pth')
    torch.save(state, path)  # a bare state dict
    model = Tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(RuntimeError) as error:
        load_model_checkpoint(model, path)
    message = str(error.value)
    assert f'the checkpoint {path} does not fit the Tiny model' in message
    assert 'missing from the checkpoint (1): conv.weight\n' in message
    assert 'not in the model (1): backbone.conv.weight\n' in message
    assert 'allow_partial_load = True' in message
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_the_oim_memory_counts(tmp_path):
    state = trained()
    del state['loss_reid.queue_ptr']
    with pytest.raises(
            RuntimeError,
            match=r'missing from the checkpoint \(1\): loss_reid.queue_ptr'):
        load_model_state(Tiny(), state)
    # another dataset's table: its number of identities differs
    with pytest.raises(
            RuntimeError,
            match=r'of another shape \(1\): loss_reid.lookup_table \(6, 2\) '
            r'\(model \(4, 2\)\)'):
        load_model_state(Tiny(), trained(num_person_ids=6))


def test_a_partial_load_loads_what_fits_and_warns(monkeypatch):
    logged = []
    monkeypatch.setattr(model_weights, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    state = trained(num_person_ids=6)
    state['extra.weight'] = torch.zeros(1)
    del state['conv.bias']
    model = Tiny()
    kept = {k: v.clone() for k, v in model.state_dict().items()}
    load_model_state(model, state, strict=False)
    loaded = model.state_dict()
    for key in ('conv.bias', 'loss_reid.lookup_table'):
        assert torch.equal(loaded[key], kept[key]), key
    for key in ('conv.weight', 'bn.running_mean', 'loss_reid.queue'):
        assert torch.equal(loaded[key], state[key]), key
    (log, ) = logged
    assert 'missing from the checkpoint (1): conv.bias' in log
    assert 'not in the model (1): extra.weight' in log
    assert 'of another shape (1): loss_reid.lookup_table' in log


def test_batchnorm_counters_may_be_missing():
    state = trained()
    del state['bn.num_batches_tracked']
    model = Tiny()
    load_model_state(model, state)
    assert torch.equal(model.bn.running_var, state['bn.running_var'])


def test_long_listings_are_cut():
    state = {f'layer{i}.weight': torch.zeros(1) for i in range(25)}
    with pytest.raises(RuntimeError) as error:
        load_model_state(Tiny(), state)
    assert 'not in the model (25): layer0.weight, layer1.weight' in str(
        error.value)
    assert 'layer9.weight, ... (15 more)' in str(error.value)
    assert 'layer10.weight' not in str(error.value)
