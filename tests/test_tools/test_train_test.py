# Copyright (c) mmps contributors. All rights reserved.
"""tools/train.py, tools/test.py and eval_search.py through the real runner.

A tiny synthetic dataset and the quick-start model at small images; each
tool runs in a subprocess, as a user runs it.
"""
import glob
import json
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch

from mmps.evaluation import PREDICTION_KEYS, load_predictions
from mmps.registry import MODELS
from mmps.testing import get_tiny_synthetic_config
from mmps.utils import load_checkpoint_file
from ._scripts import REPO, run_torchrun_script


def tiny_config(tmp_path, max_epochs=2, val_interval=1) -> str:
    """The tiny quick-start config, written as one file."""
    cfg = get_tiny_synthetic_config(
        str(tmp_path / 'synthetic'), max_epochs, val_interval)
    path = str(tmp_path / 'tiny.py')
    cfg.dump(path)
    return path


def run_tool(*args, mim=False, returncode=0, **env):
    """Run a tool in a subprocess; fail with its output if it ends with
    another code than ``returncode``. ``env`` adds environment variables.
    """
    env = {**os.environ, 'PYTHONPATH': REPO, 'PYTHONWARNINGS': 'ignore', **env}
    if mim:
        command = [osp.join(osp.dirname(sys.executable), 'mim')] + list(args)
    else:
        command = [sys.executable] + list(args)
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == returncode, \
        done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def train_scalars(work_dir):
    """The training log lines of LocalVisBackend's scalars.json."""
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        lines = [json.loads(line) for line in f]
    return [line for line in lines if 'loss' in line]


def oim_state(checkpoint):
    state = load_checkpoint_file(checkpoint)['state_dict']
    prefix = 'roi_head.embedding_head.loss_reid.'
    return {
        k[len(prefix):]: v
        for k, v in state.items() if k.startswith(prefix)
    }


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Three epochs of training with validation, through mim."""
    tmp_path = tmp_path_factory.mktemp('train')
    config = tiny_config(tmp_path, max_epochs=3)
    work_dir = str(tmp_path / 'work')
    run_tool('train', 'mmps', config, '--work-dir', work_dir, mim=True)
    return config, work_dir


def test_train_logs_metrics_and_learns(trained):
    config, work_dir = trained
    scalars = train_scalars(work_dir)
    assert len(scalars) >= 10
    for key in ('loss_rpn_cls', 'loss_cls', 'loss_bbox', 'loss_reid'):
        assert key in scalars[0]
    first = scalars[0]['loss_rpn_cls']
    last = sum(s['loss_rpn_cls'] for s in scalars[-3:]) / 3
    assert last < first
    assert osp.isfile(osp.join(work_dir, 'epoch_3.pth'))
    # no checkpoint is chosen by a score unless asked for
    assert not glob.glob(osp.join(work_dir, 'best_*.pth'))
    # validation scores the validation split of the training identities
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        validations = [s for s in map(json.loads, f) if 'mmps/mAP' in s]
    assert len(validations) == 3
    assert all(0 <= v['mmps/mAP'] <= 1 for v in validations)
    # the OIM memory is in the checkpoint: labeled rows are filled
    state = oim_state(osp.join(work_dir, 'epoch_3.pth'))
    assert state['lookup_table'].norm(dim=1).gt(0.99).sum() >= 5
    assert 0 <= int(state['queue_ptr']) < 16


def test_test_tool_scores_and_dumps(trained, tmp_path):
    config, work_dir = trained
    checkpoint = osp.join(work_dir, 'epoch_3.pth')
    preds = str(tmp_path / 'preds.npz')
    show_dir = str(tmp_path / 'show')
    test_dir = str(tmp_path / 'test')
    run_tool(
        'test',
        'mmps',
        config,
        '--checkpoint',
        checkpoint,
        '--work-dir',
        test_dir,
        '--out',
        preds,
        '--show-dir',
        show_dir,
        mim=True)
    (metrics_file, ) = glob.glob(osp.join(test_dir, '*', '*.json'))
    with open(metrics_file) as f:
        metrics = json.load(f)
    for key in ('mmps/mAP', 'mmps/top1', 'mmps/g50/mAP', 'mmps/det_recall'):
        assert 0.0 <= metrics[key] <= 1.0
    records = load_predictions(preds)
    # predictions only: the ground truth comes from the dataset when scored
    assert {key for r in records for key in r} == set(PREDICTION_KEYS)
    queries = [r for r in records if r['is_query']]
    assert len(queries) == 4
    assert len(records) - 4 == len(
        glob.glob(
            osp.join(
                osp.dirname(config), 'synthetic', 'Image', 'SSM',
                '*.jpg'))) - _num_train_images(config)
    with open(osp.join(show_dir, 'worst_queries.json')) as f:
        worst = json.load(f)['queries']
    pictures = sorted(glob.glob(osp.join(show_dir, '*.jpg')))
    assert [osp.basename(p) for p in pictures] == [
        f'{rank:03d}_query{query["query_index"]}.jpg'
        for rank, query in enumerate(worst)
    ]

    out = run_tool('tools/analysis_tools/eval_search.py', config, preds)
    offline = {
        line.split(': ')[0]: float(line.split(': ')[1])
        for line in out.splitlines() if line.startswith(('mAP', 'top1'))
    }
    assert offline['mAP'] == pytest.approx(metrics['mmps/mAP'], abs=2e-6)
    assert offline['top1'] == pytest.approx(metrics['mmps/top1'], abs=2e-6)


def _num_train_images(config):
    from scipy.io import loadmat
    root = osp.join(osp.dirname(config), 'synthetic', 'annotation')
    return len(loadmat(osp.join(root, 'Images.mat'))['Img'][0]) - len(
        loadmat(osp.join(root, 'pool.mat'))['pool'])


def test_resume_repeats_an_uninterrupted_run(tmp_path):
    """The first run ends with a validation (its last epoch) that draws
    from the generators; the uninterrupted run validates only at its
    end."""
    config = tiny_config(tmp_path, max_epochs=2, val_interval=10)
    straight, resumed = str(tmp_path / 'straight'), str(tmp_path / 'resumed')
    run_tool('tools/train.py', config, '--work-dir', straight)
    run_tool('tools/train.py', config, '--work-dir', resumed, '--cfg-options',
             'train_cfg.max_epochs=1')
    run_tool('tools/train.py', config, '--work-dir', resumed, '--resume')
    expected = [s for s in train_scalars(straight) if s['epoch'] == 2]
    logs = sorted(
        glob.glob(osp.join(resumed, '*', 'vis_data', 'scalars.json')))
    with open(logs[-1]) as f:
        got = [json.loads(line) for line in f]
    got = [s for s in got if 'loss' in s and s['epoch'] == 2]
    assert len(got) == len(expected) > 0
    for a, b in zip(got, expected):
        for key in ('loss', 'loss_reid', 'loss_cls', 'loss_rpn_cls'):
            assert a[key] == pytest.approx(b[key], abs=1e-5), key
    for key, value in oim_state(osp.join(straight, 'epoch_2.pth')).items():
        assert torch.allclose(
            value.float(),
            oim_state(osp.join(resumed, 'epoch_2.pth'))[key].float(),
            atol=1e-5), key


KILL_MID_WRITE = """
import os
import signal

from mmengine.fileio.backends.local_backend import LocalBackend

KILL_AT = int(os.environ.get('KILL_AT_CHECKPOINT_WRITE', 0))
put = LocalBackend.put
writes = 0


def put_or_die(self, obj, filepath):
    global writes
    writes += '.pth' in str(filepath)
    if writes == KILL_AT:  # half of the checkpoint is on the disk
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    put(self, obj, filepath)


LocalBackend.put = put_or_die
"""


def test_a_kill_while_a_checkpoint_is_written_keeps_the_last_one(tmp_path):
    """SIGKILL halfway through the third checkpoint write: epoch_1.pth saved
    again after the first validation (new best score on the validation
    split), the file that ``last_checkpoint`` names; --resume continues
    from its complete copy."""
    (tmp_path / 'kill_mid_write.py').write_text(KILL_MID_WRITE)
    cfg = get_tiny_synthetic_config(
        str(tmp_path / 'synthetic'), max_epochs=2, val_interval=1)
    cfg.default_hooks.checkpoint.update(save_best='mmps/mAP', rule='greater')
    cfg.custom_imports = dict(imports=['kill_mid_write'])
    config = str(tmp_path / 'tiny.py')
    cfg.dump(config)
    work_dir = str(tmp_path / 'work')
    pythonpath = f'{REPO}:{tmp_path}'
    run_tool(
        'tools/train.py',
        config,
        '--work-dir',
        work_dir,
        returncode=-signal.SIGKILL,
        PYTHONPATH=pythonpath,
        KILL_AT_CHECKPOINT_WRITE='3')
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read() == osp.join(work_dir, 'epoch_1.pth')
    assert load_checkpoint_file(osp.join(work_dir,
                                         'epoch_1.pth'))['meta']['epoch'] == 1
    assert osp.isfile(osp.join(work_dir, 'best_mmps_mAP_epoch_1.pth'))

    # epoch 2 without validation: it is not what is tested, and takes time
    out = run_tool(
        'tools/train.py',
        config,
        '--work-dir',
        work_dir,
        '--resume',
        '--cfg-options',
        'train_cfg.val_begin=3',
        PYTHONPATH=pythonpath)
    assert 'resumed epoch: 1' in out
    assert load_checkpoint_file(osp.join(work_dir,
                                         'epoch_2.pth'))['meta']['epoch'] == 2


def test_the_test_tool_refuses_a_checkpoint_of_another_model(tmp_path):
    cfg = get_tiny_synthetic_config(str(tmp_path / 'synthetic'))
    config = str(tmp_path / 'tiny.py')
    cfg.dump(config)
    state = MODELS.build(cfg.model).state_dict()
    prefix = 'roi_head.embedding_head.'
    renamed = {
        key.replace(prefix, 'roi_head.reid_head.'): value
        for key, value in state.items()
    }
    checkpoint = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict=renamed, meta=dict()), checkpoint)
    out = run_tool(
        'tools/test.py',
        config,
        checkpoint,
        '--work-dir',
        str(tmp_path / 'test'),
        returncode=1)
    assert f'the checkpoint {checkpoint} does not fit the PersonSearch ' \
        'model' in out
    assert f'missing from the checkpoint (9): {prefix}' in out
    assert 'not in the model (10): roi_head.reid_head.' in out


DUMP_HOOK = """
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmps.registry import HOOKS


@HOOKS.register_module()
class DumpOIMHook(Hook):
    def __init__(self, out_dir):
        self.out_dir = out_dir

    def after_train(self, runner):
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        oim = model.roi_head.embedding_head.loss_reid
        torch.save(oim.state_dict(), f'{self.out_dir}/{get_rank()}.pth')
"""


def test_two_process_gloo_training_keeps_one_memory(tmp_path):
    """tools/dist_train.sh with 2 processes on the CPU (gloo)."""
    dump_dir = tmp_path / 'memory'
    dump_dir.mkdir()
    (tmp_path / 'dump_oim.py').write_text(DUMP_HOOK)
    cfg = get_tiny_synthetic_config(
        str(tmp_path / 'synthetic'), max_epochs=1, val_interval=10)
    cfg.custom_imports = dict(imports=['dump_oim'])
    cfg.custom_hooks.append(dict(type='DumpOIMHook', out_dir=str(dump_dir)))
    config = str(tmp_path / 'tiny.py')
    cfg.dump(config)
    out = run_torchrun_script(
        'tools/dist_train.sh',
        config,
        '2',
        '--work-dir',
        str(tmp_path / 'work'),
        pythonpath=f'{REPO}:{tmp_path}')
    assert 'gloo' in out
    states = [torch.load(dump_dir / f'{rank}.pth') for rank in range(2)]
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key
    assert states[0]['lookup_table'].norm(dim=1).gt(0.99).sum() >= 5
