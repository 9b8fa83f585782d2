# Copyright (c) mmps contributors. All rights reserved.
"""tools/build_index.py on one process and tools/dist_build_index.sh on two
(gloo on the CPU), on synthetic images and videos, with an untrained model.
"""
import glob
import json
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch

from mmps.apis import GalleryIndex, PersonSearcher
from mmps.datasets.synthetic import SyntheticConfig, generate_synthetic_dataset
from mmps.testing import TINY_SYNTHETIC_DATA, get_tiny_synthetic_config
from ._scripts import run_script, run_torchrun_script


def write_video(path, images, fps=5):
    """A video showing ``images`` (resized to the first one's size)."""
    first = cv2.imread(images[0])
    height, width = first.shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), fps,
                             (width, height))
    for image in images:
        writer.write(cv2.resize(cv2.imread(image), (width, height)))
    writer.release()


@pytest.fixture(scope='module')
def gallery(tmp_path_factory):
    root = tmp_path_factory.mktemp('build_index')
    data = str(root / 'synthetic')
    generate_synthetic_dataset(
        data, config=SyntheticConfig(**TINY_SYNTHETIC_DATA))
    images = sorted(glob.glob(osp.join(data, 'Image', 'SSM', '*.jpg')))
    (root / 'gate').mkdir()
    (root / 'lobby').mkdir()
    write_video(str(root / 'gate' / 'monday.avi'), images[:8])
    write_video(str(root / 'lobby' / 'monday.avi'), images[8:20])
    for path in images[20:23]:
        shutil.copy(path, root / 'lobby')
    config = str(root / 'tiny.py')
    get_tiny_synthetic_config(data).dump(config)
    model = PersonSearcher(config).model
    checkpoint = str(root / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    cameras = str(root / 'cameras.json')
    with open(cameras, 'w') as file:
        json.dump({str(root / 'gate'): 'gate-1'}, file)
    return root, config, checkpoint, cameras


def check_same(index, reference):
    assert index.image_paths == reference.image_paths
    assert index.sources == reference.sources
    assert index.cameras == reference.cameras
    np.testing.assert_array_equal(index.frames, reference.frames)
    np.testing.assert_allclose(index.timestamps, reference.timestamps)
    np.testing.assert_array_equal(index.image_index, reference.image_index)
    np.testing.assert_allclose(index.bboxes, reference.bboxes, atol=1e-3)
    np.testing.assert_allclose(index.scores, reference.scores, atol=1e-5)
    np.testing.assert_allclose(
        index.embeddings, reference.embeddings, atol=1e-5)


def test_two_processes_build_the_index_of_one(gallery):
    root, config, checkpoint, cameras = gallery
    sources = [str(root / 'gate'), str(root / 'lobby')]
    options = ['--stride', '2', '--cameras', cameras, '--num-workers', '0']
    run_script('tools/build_index.py', config, checkpoint, *sources, '--out',
               str(root / 'single'), *options)
    single = GalleryIndex.load(str(root / 'single'))
    # 4 + 6 sampled frames and 3 stills, cameras by mapping or folder
    assert single.num_images == 13
    assert single.cameras == ['gate-1'] * 4 + ['lobby'] * 9
    out = run_torchrun_script('tools/dist_build_index.sh', config, checkpoint,
                              ' '.join(sources), '2', '--out',
                              str(root / 'double'), *options)
    assert 'backend gloo' in out
    check_same(GalleryIndex.load(str(root / 'double')), single)
    assert not osp.exists(str(root / 'double.parts'))


def test_an_index_is_extended_without_reading_it_again(gallery):
    root, config, checkpoint, cameras = gallery
    options = ['--stride', '2', '--cameras', cameras, '--num-workers', '0']
    out_dir = str(root / 'grown')
    run_script('tools/build_index.py', config, checkpoint, str(root / 'gate'),
               '--out', out_dir, *options)
    out = run_script('tools/build_index.py', config, checkpoint,
                     str(root / 'gate'), str(root / 'lobby'), '--out', out_dir,
                     *options)
    assert '4 images or frames are in the index already; 9 new' in out
    whole = str(root / 'whole')
    run_script('tools/build_index.py', config, checkpoint, str(root / 'gate'),
               str(root / 'lobby'), '--out', whole, *options)
    check_same(GalleryIndex.load(out_dir), GalleryIndex.load(whole))


def test_a_bad_camera_mapping_is_refused(gallery, tmp_path):
    root, config, checkpoint, _ = gallery
    mapping = tmp_path / 'cameras.json'
    mapping.write_text('["gate"]')
    with pytest.raises(AssertionError, match='must hold one JSON object'):
        run_script('tools/build_index.py', config, checkpoint,
                   str(root / 'gate'), '--out', str(tmp_path / 'x'),
                   '--stride', '2', '--cameras', str(mapping))
