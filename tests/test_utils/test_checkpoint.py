# Copyright (c) mmps contributors. All rights reserved.
"""Checkpoint files load under weights_only, and only what is allowed."""
import os
import os.path as osp
import pickle
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.logging.history_buffer import HistoryBuffer

from mmps.utils import load_checkpoint_file

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


class _Reduce:
    """Pickles as ``function(*args)``: what a crafted checkpoint holds."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def mmengine_checkpoint() -> dict:
    """What mmengine's ``Runner.save_checkpoint`` writes, in small."""
    hub = MessageHub('test_checkpoint_file')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', 0.25)
    hub.update_info('best_score', np.float64(0.75))
    hub.update_info('keep_ckpt_ids', [1, 2])
    return dict(
        meta=dict(
            epoch=2,
            dataset_meta=dict(classes=('person', )),
            # an empty array pickles its data as bytes()
            random_state=dict(
                numpy=('MT19937', np.arange(3, dtype=np.uint32), 0, 0, 0.0),
                empty=np.zeros((0, 4), np.float32))),
        state_dict=OrderedDict(weight=torch.arange(6.).reshape(2, 3)),
        message_hub=hub.state_dict())


def test_an_mmengine_checkpoint_loads(tmp_path):
    path = str(tmp_path / 'epoch_2.pth')
    torch.save(mmengine_checkpoint(), path)
    # it holds what plain mmengine writes: HistoryBuffer's statistics
    # methods as getattr(HistoryBuffer, name), empty data as bytes()
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    assert {'builtins.getattr', 'builtins.bytes'} <= set(unsafe)

    checkpoint = load_checkpoint_file(path)
    assert checkpoint['meta']['epoch'] == 2
    assert torch.equal(checkpoint['state_dict']['weight'],
                       torch.arange(6.).reshape(2, 3))
    assert checkpoint['meta']['random_state']['empty'].shape == (0, 4)
    np.testing.assert_array_equal(
        checkpoint['meta']['random_state']['numpy'][1], [0, 1, 2])
    hub = checkpoint['message_hub']
    assert hub['runtime_info']['best_score'] == 0.75
    loss = hub['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer)
    assert loss.mean() == pytest.approx(0.375)
    assert loss.statistics('current') == 0.25


def test_loading_leaves_the_allow_list_as_it_was(tmp_path):
    path = str(tmp_path / 'epoch_2.pth')
    torch.save(mmengine_checkpoint(), path)
    # a global the user allowed stays allowed
    with torch.serialization.safe_globals([np.ndarray]):
        before = set(torch.serialization.get_safe_globals())
        load_checkpoint_file(path)
        assert set(torch.serialization.get_safe_globals()) == before


def test_importing_mmps_changes_neither_torch_nor_mmengine():
    code = ('import torch\n'
            'from mmengine.logging.history_buffer import HistoryBuffer\n'
            'getstate = HistoryBuffer.__getstate__\n'
            'import mmps, mmps.engine, mmps.apis\n'
            'from mmps.utils import checkpoint_globals\n'
            'allowed = torch.serialization.get_safe_globals()\n'
            'assert not [g for g in checkpoint_globals() if g in allowed]\n'
            'assert HistoryBuffer.__getstate__ is getstate\n')
    done = subprocess.run([sys.executable, '-c', code],
                          cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=REPO),
                          capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_code_running_pickle_is_refused_and_named(tmp_path):
    marker = tmp_path / 'ran'
    path = str(tmp_path / 'crafted.pth')
    torch.save(
        dict(state_dict={}, meta=_Reduce(os.system, f'touch {marker}')), path)
    with pytest.raises(pickle.UnpicklingError) as error:
        load_checkpoint_file(path)
    message = str(error.value)
    assert f'refused to load the checkpoint {path}' in message
    assert f'{os.system.__module__}.system' in message
    # a one-line conversion for a file one trusts
    assert f"torch.load('{path}', map_location='cpu', weights_only=False)" \
        in message
    assert str(tmp_path / 'crafted_weights.pth') in message
    assert not marker.exists()


@pytest.mark.parametrize('call, refused',
                         [((getattr, HistoryBuffer, '__init__'), 'getattr'),
                          ((getattr, np.ndarray, 'tofile'), 'getattr'),
                          ((bytes, 8), 'bytes(8,)')])
def test_getattr_and_bytes_do_only_what_mmengine_needs(tmp_path, call,
                                                       refused):
    path = str(tmp_path / 'crafted.pth')
    torch.save(dict(state_dict={}, meta=_Reduce(*call)), path)
    with pytest.raises(pickle.UnpicklingError, match='refused') as error:
        load_checkpoint_file(path)
    assert refused in str(error.value)


def test_damaged_files_are_named(tmp_path):
    missing = str(tmp_path / 'missing.pth')
    with pytest.raises(FileNotFoundError, match=missing):
        load_checkpoint_file(missing)
    path = tmp_path / 'epoch_1.pth'
    torch.save(mmengine_checkpoint(), str(path))
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=f'{path}: it is not the zip'):
        load_checkpoint_file(str(path))
    torch.save([torch.zeros(1)], str(path))
    with pytest.raises(ValueError, match='holds a list, not a dict'):
        load_checkpoint_file(str(path))
