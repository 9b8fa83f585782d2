# Copyright (c) mmps contributors. All rights reserved.
"""load_from and resume through SafeCheckpointRunner (no data is read)."""
import copy

import pytest
import torch

from mmps.engine import SafeCheckpointRunner
from mmps.registry import MODELS
from mmps.testing import get_tiny_synthetic_config

LOOKUP_TABLE = 'roi_head.embedding_head.loss_reid.lookup_table'


@pytest.fixture
def renamed(tmp_path):
    """A runner to load_from a checkpoint whose OIM table was renamed."""
    model_cfg = get_tiny_synthetic_config(str(tmp_path / 'synthetic')).model
    torch.manual_seed(3)
    state = MODELS.build(copy.deepcopy(model_cfg)).state_dict()
    state['roi_head.embedding_head.loss_reid.table'] = state.pop(LOOKUP_TABLE)
    path = str(tmp_path / 'renamed.pth')
    torch.save(dict(state_dict=state, meta=dict()), path)
    runner = SafeCheckpointRunner(
        model=model_cfg,
        work_dir=str(tmp_path / 'work'),
        load_from=path,
        # a runner sets the default scope for the tests that follow
        default_scope='mmps',
        experiment_name=f'test_safe_checkpoint_runner_{tmp_path.name}')
    return runner, path, state


def test_load_from_must_fit_the_model(renamed):
    runner, path, _ = renamed
    with pytest.raises(RuntimeError) as error:
        runner.load_or_resume()
    message = str(error.value)
    assert f'the checkpoint {path} does not fit the PersonSearch model' \
        in message
    assert f'missing from the checkpoint (1): {LOOKUP_TABLE}\n' in message
    assert 'not in the model (1): roi_head.embedding_head.loss_reid.table\n' \
        in message


def test_a_partial_load_from_is_a_config_choice(renamed):
    runner, path, state = renamed
    key = 'roi_head.bbox_head.fc_cls.weight'
    assert not torch.equal(runner.model.state_dict()[key], state[key])
    runner.cfg.allow_partial_load = True
    runner.load_or_resume()
    assert torch.equal(runner.model.state_dict()[key], state[key])
    # resuming is never partial
    runner._has_loaded, runner._resume = False, True
    with pytest.raises(RuntimeError, match='does not fit'):
        runner.load_or_resume()
