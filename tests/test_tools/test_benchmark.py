# Copyright (c) mmps contributors. All rights reserved.
"""tools/analysis_tools/benchmark.py: its figures and its synthetic data."""
import importlib.util
import os
import os.path as osp
import re
import tempfile

import pytest
from mmengine.config import Config

from mmps.testing import get_config_file, get_tiny_synthetic_config
from ._scripts import REPO, run_script

SCRIPT = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark.py')


def load_benchmark():
    spec = importlib.util.spec_from_file_location('benchmark', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('config, dataset_type', [
    ('oim/oim_r50-caffe-c4_1xb5-20e_cuhk-sysu.py', 'SyntheticCUHKSYSUDataset'),
    ('oim/oim_r50-caffe-c4_1xb5-18e_prw.py', 'SyntheticPRWDataset'),
])
def test_use_synthetic_data_keeps_the_pipelines(config, dataset_type):
    benchmark = load_benchmark()
    cfg = Config.fromfile(get_config_file(config))
    pipeline = cfg.train_dataloader.dataset.pipeline
    benchmark.use_synthetic_data(cfg, '/tmp/somewhere')
    parts = [cfg.train_dataloader.dataset, cfg.test_dataloader.dataset.dataset]
    assert [p.type for p in parts] == [dataset_type] * 2
    assert {p.data_root for p in parts} == {'/tmp/somewhere'}
    # the recipe's image scale stays
    assert cfg.train_dataloader.dataset.pipeline == pipeline


def test_use_synthetic_data_names_an_unknown_dataset_type():
    benchmark = load_benchmark()
    cfg = Config.fromfile(
        get_config_file('oim/oim_r50-caffe-c4_1xb5-20e_cuhk-sysu.py'))
    cfg.train_dataloader.dataset.type = 'MyDataset'
    with pytest.raises(ValueError, match=r"train_dataloader.*'MyDataset'"):
        benchmark.use_synthetic_data(cfg, '/tmp/somewhere')


def test_benchmark_prints_its_figures_and_cleans_up(tmp_path):
    config = str(tmp_path / 'tiny.py')
    get_tiny_synthetic_config(str(tmp_path / 'unused')).dump(config)
    before = set(os.listdir(tempfile.gettempdir()))
    out = run_script(SCRIPT, config, '--synthetic-data', '--train-iters', '2',
                     '--warmup', '1', '--test-images', '2', '--work-dir',
                     str(tmp_path / 'work'))
    assert re.search(r'train iteration: \d+\.\d+ s \(batch 2', out), out
    assert re.search(r'inference: +\d+\.\d+ images/s', out)
    assert '(synthetic data)' in out
    # generated in a temporary folder, removed at the end
    assert not osp.exists(tmp_path / 'unused')
    left = set(os.listdir(tempfile.gettempdir())) - before
    assert not [name for name in left if name.startswith('mmps-benchmark-')]
