# Copyright (c) mmps contributors. All rights reserved.
"""demo/search_demo.py on a tiny synthetic gallery with an untrained model."""
import glob
import os.path as osp
import runpy
import shutil
import sys

import mmcv
import numpy as np
import pytest
import torch

from mmps.apis import GalleryIndex, PersonSearcher
from mmps.datasets.synthetic import SyntheticConfig, generate_synthetic_dataset
from mmps.testing import TINY_SYNTHETIC_DATA, get_tiny_synthetic_config
from ._scripts import REPO, run_script


def test_demo_draws_the_matches_and_reuses_its_index(tmp_path):
    root = str(tmp_path / 'synthetic')
    generate_synthetic_dataset(
        root, config=SyntheticConfig(**TINY_SYNTHETIC_DATA))
    gallery = tmp_path / 'gallery'
    gallery.mkdir()
    images = sorted(glob.glob(osp.join(root, 'Image', 'SSM', '*.jpg')))
    for path in images[1:4]:
        shutil.copy(path, gallery)
    config = str(tmp_path / 'tiny.py')
    get_tiny_synthetic_config(root).dump(config)
    model = PersonSearcher(config).model
    checkpoint = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)

    def run(*extra):
        return run_script('demo/search_demo.py',
                          images[0], '--box', '20', '8', '44', '60',
                          str(gallery), config, checkpoint, '--out',
                          str(tmp_path / 'result.jpg'), '--index',
                          str(tmp_path / 'index'), '--top-k', '3',
                          '--score-thr', '0', '--panel-height', '72',
                          '--num-workers', '0', *extra)

    out = run()
    assert '3 matches for' in out
    drawn = mmcv.imread(str(tmp_path / 'result.jpg'))
    # query crop 24 x 52 -> 33 x 72; three 96 x 72 gallery images; 8 px gaps
    assert drawn.shape == (72, 33 + 3 * (96 + 8), 3)
    index = GalleryIndex.load(str(tmp_path / 'index'))
    assert index.num_images == 3
    # a new image in the folder: only it is embedded, the index grows
    shutil.copy(images[4], gallery)
    out = run()
    assert '3 images or frames are in the index already; 1 new' in out
    assert GalleryIndex.load(str(tmp_path / 'index')).num_images == 4
    # no stranger reaches a similarity above 1: "not here" is an answer
    out = run('--min-similarity', '1.01')
    assert '0 matches for' in out
    assert mmcv.imread(str(tmp_path / 'result.jpg')).shape == (72, 33, 3)


def test_demo_refuses_an_index_of_files_outside_the_gallery(
        tmp_path, monkeypatch, capsys):
    # a tampered index.json would make the demo read and draw other files
    gallery = tmp_path / 'gallery'
    gallery.mkdir()
    index = GalleryIndex(
        [str(gallery / 'a.jpg'), '/etc/passwd',
         str(gallery / '..' / 'b.jpg')], np.tile([[60, 80]], (3, 1)),
        [[1, 2, 11, 22]], [0.9], [[0.6, 0.8]], [1], 'model')
    index.save(str(tmp_path / 'index'))
    monkeypatch.setattr(sys, 'argv', [
        'search_demo.py',
        str(gallery / 'a.jpg'), '--box', '1', '2', '11', '22',
        str(gallery), 'never_read_config.py', 'never_read.pth', '--index',
        str(tmp_path / 'index')
    ])
    with pytest.raises(SystemExit) as error:
        runpy.run_path(
            osp.join(REPO, 'demo', 'search_demo.py'), run_name='__main__')
    message = str(error.value)
    assert 'lists 2 images outside the gallery folder' in message
    assert '/etc/passwd' in message and 'b.jpg' in message
    assert 'a.jpg' not in message.split('folder:')[-1]
