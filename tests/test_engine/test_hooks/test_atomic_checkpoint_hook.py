# Copyright (c) mmps contributors. All rights reserved.
import glob
import os
import os.path as osp
from types import SimpleNamespace
from unittest.mock import MagicMock

import numpy as np
import torch
from mmengine.logging import MessageHub

from mmps.engine.hooks import AtomicCheckpointHook


class Runner(SimpleNamespace):
    """What CheckpointHook uses of a runner; saving records the folder."""

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        self.saves.append((filename, sorted(os.listdir(out_dir))))
        with open(osp.join(out_dir, filename), 'w') as f:
            f.write(filename)


def train(work_dir, metrics, **hook_args):
    """Epochs with a validation after each, as mmengine's loops call."""
    runner = Runner(
        work_dir=work_dir,
        epoch=0,
        iter=0,
        saves=[],
        logger=MagicMock(),
        message_hub=MessageHub(f'test_atomic_checkpoint_hook_{work_dir}'))
    hook = AtomicCheckpointHook(interval=1, **hook_args)
    hook.before_train(runner)
    for epoch, scores in enumerate(metrics):
        runner.epoch = epoch
        hook.after_train_epoch(runner)
        runner.epoch = epoch + 1  # the loop counts the epoch, then validates
        hook.after_val_epoch(runner, scores)
    return runner


def test_old_checkpoints_go_only_after_their_successors_are_written(tmp_path):
    runner = train(
        str(tmp_path), [{
            'mmps/mAP': score
        } for score in (0.1, 0.3, 0.2, 0.4)],
        max_keep_ckpts=2,
        save_best='mmps/mAP',
        rule='greater')
    saves = dict()
    for filename, present in runner.saves:
        saves.setdefault(filename, present)
    # the previous best is still there when the new best is written
    assert 'best_mmps_mAP_epoch_1.pth' in saves['best_mmps_mAP_epoch_2.pth']
    assert 'best_mmps_mAP_epoch_2.pth' in saves['best_mmps_mAP_epoch_4.pth']
    # the oldest kept checkpoint is still there when the next one is written
    assert 'epoch_1.pth' in saves['epoch_3.pth']
    assert 'epoch_2.pth' in saves['epoch_4.pth']
    assert sorted(os.listdir(tmp_path)) == [
        'best_mmps_mAP_epoch_4.pth', 'epoch_3.pth', 'epoch_4.pth',
        'last_checkpoint'
    ]
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read() == osp.join(str(tmp_path), 'epoch_4.pth')
    # after a new best score the last checkpoint is saved again, to record it
    assert [name for name, _ in runner.saves].count('epoch_2.pth') == 2
    assert [name for name, _ in runner.saves].count('epoch_3.pth') == 1
    assert runner.message_hub.get_info('best_ckpt') == osp.join(
        str(tmp_path), 'best_mmps_mAP_epoch_4.pth')
    assert runner.message_hub.get_info('keep_ckpt_ids') == [3, 4]


def test_every_key_indicator_keeps_its_best(tmp_path):
    train(
        str(tmp_path), [dict(mAP=0.1, top1=0.5),
                        dict(mAP=0.2, top1=0.4)],
        save_best=['mAP', 'top1'],
        rule='greater')
    assert sorted(os.listdir(tmp_path)) == [
        'best_mAP_epoch_2.pth', 'best_top1_epoch_1.pth', 'epoch_1.pth',
        'epoch_2.pth', 'last_checkpoint'
    ]


def test_published_checkpoints_are_read_under_the_allow_list(tmp_path):
    """A checkpoint with the message hub's HistoryBuffers (and a numpy
    scalar) is published with the keys asked for."""
    hub = MessageHub('test_atomic_checkpoint_hook_publish')
    hub.update_scalar('train/loss', 0.5)
    hub.update_info('best_score', np.float64(0.75))
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(
        dict(
            meta=dict(epoch=1),
            state_dict=dict(weight=torch.ones(2)),
            message_hub=hub.state_dict()), path)
    hook = AtomicCheckpointHook(published_keys=['meta', 'state_dict'])
    hook._publish_model(None, path)
    (published, ) = glob.glob(str(tmp_path / 'epoch_1-*.pth'))
    assert set(torch.load(published,
                          weights_only=True)) == {'meta', 'state_dict'}
