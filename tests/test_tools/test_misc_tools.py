# Copyright (c) mmps contributors. All rights reserved.
"""tools/misc: the synthetic dataset generator and the dataset browser."""
import glob
import json
import os.path as osp

import mmcv

from mmps.testing import get_tiny_synthetic_config
from ._scripts import run_script as run


def test_generate_synthetic_dataset_tool(tmp_path):
    out = str(tmp_path / 'coco')
    run('tools/misc/generate_synthetic_dataset.py', out, '--format', 'coco',
        '--num-train-ids', '5', '--num-test-ids', '3',
        '--num-distractor-images', '2', '--image-size', '64', '48', '--seed',
        '7')
    with open(osp.join(out, 'SYNTHETIC.json')) as f:
        marker = json.load(f)
    assert marker['format'] == 'coco'
    assert marker['config']['image_size'] == [64, 48]
    with open(osp.join(out, 'annotations', 'train.json')) as f:
        train = json.load(f)
    ids = {a['person_id'] for a in train['annotations']} - {-1}
    assert ids == {1, 2, 3, 4, 5}
    with open(osp.join(out, 'annotations', 'test.json')) as f:
        assert len(json.load(f)['queries']) == 3


def test_browse_dataset_draws_every_sample(tmp_path):
    config = str(tmp_path / 'tiny.py')
    get_tiny_synthetic_config(str(tmp_path / 'synthetic')).dump(config)
    out = str(tmp_path / 'browse')
    run('tools/misc/browse_dataset.py', config, '--output-dir', out,
        '--max-samples', '3')
    files = sorted(glob.glob(osp.join(out, '*.jpg')))
    assert len(files) == 3
    # the pipeline's output: resized to the config's scale (96 x 72)
    assert mmcv.imread(files[0]).shape == (72, 96, 3)
    run('tools/misc/browse_dataset.py', config, '--split', 'test',
        '--output-dir', out, '--max-samples', '2')
