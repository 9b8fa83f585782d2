# Copyright (c) mmps contributors. All rights reserved.
"""Time the CUHK-SYSU loader on annotation files of CUHK-SYSU's full size.

Writes, with mmps' CUHK-SYSU writer, a tree of the real dataset's size
(11206 training and 6978 gallery images, about 5 persons an image, 5532
training identities with 2 to 4 appearances, 2900 queries, TestG50 and
TestG100) with blank 400 x 300 images, then times each split of
``CUHKSYSUDataset`` (``Images.mat``, ``pool.mat``, ``Train.mat`` and the
matching of its boxes, ``TestG50.mat``; image sizes read from the JPEG
headers) and the protocol files the metric reads.

    python tools/analysis_tools/benchmark_loading.py [--root DIR] [--keep]
"""
import argparse
import os.path as osp
import shutil
import tempfile
import time

import numpy as np

from mmps.datasets import CUHKSYSUDataset
from mmps.datasets.cuhk_sysu_format import load_protocol
from mmps.datasets.synthetic import SyntheticConfig
from mmps.datasets.synthetic.generator import SceneAnnotation, SyntheticDataset
from mmps.datasets.synthetic.writers import write_cuhk_sysu
from mmps.utils.warning_filters import ignore_pkg_resources_warning

ignore_pkg_resources_warning()


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--root', help='where to write the tree')
    parser.add_argument(
        '--keep', action='store_true', help='keep the tree afterwards')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def scenes_of(slots: list, num_scenes: int, rng: np.random.Generator,
              image: np.ndarray) -> list:
    """Scenes of 3 to 7 persons holding the identity slots, padded with
    unlabeled persons; no identity twice in a scene."""
    members = [[] for _ in range(num_scenes)]
    order = rng.permutation(len(slots))
    for position, slot in enumerate(order):
        scene = position % num_scenes
        if slots[slot] in members[scene]:
            scene = (scene + 1) % num_scenes
        members[scene].append(slots[slot])
    scenes = []
    for i, ids in enumerate(members):
        count = max(len(ids), int(rng.integers(3, 8)))
        identities = np.array(ids + [-1] * (count - len(ids)))
        x1 = rng.integers(0, 350, count)
        y1 = rng.integers(0, 200, count)
        boxes = np.stack([x1, y1, x1 + 40, y1 + 90], 1).astype(np.float64)
        scenes.append(
            SceneAnnotation(f'{i}', boxes, identities, 1, image=image))
    return scenes


def build_dataset(seed: int) -> SyntheticDataset:
    """Scenes of CUHK-SYSU's size and shape, without pixels worth a look."""
    rng = np.random.default_rng(seed)
    image = np.full((300, 400, 3), 127, np.uint8)
    train_ids, test_ids = 5532, 2900
    train_slots = np.repeat(
        np.arange(train_ids), rng.integers(2, 5, train_ids)).tolist()
    test_slots = np.repeat(
        np.arange(train_ids, train_ids + test_ids),
        rng.integers(2, 5, test_ids)).tolist()
    train = scenes_of(train_slots, 11206, rng, image)
    test = scenes_of(test_slots, 6978, rng, image)
    first_scene = {}
    for i, scene in enumerate(test):
        for j, identity in enumerate(scene.identities):
            if identity >= 0 and identity not in first_scene:
                first_scene[int(identity)] = (i, j)
    queries = [(identity, *first_scene[identity])
               for identity in range(train_ids, train_ids + test_ids)]
    config = SyntheticConfig(
        num_train_ids=train_ids, num_test_ids=test_ids, seed=seed)
    return SyntheticDataset(config, train, test, queries)


def timed(what: str, function):
    """Run ``function``, print its wall time, return its result."""
    start = time.perf_counter()
    result = function()
    print(f'{what}: {time.perf_counter() - start:.2f} s')
    return result


def main():
    """Write the tree, time the loaders, remove the tree."""
    args = parse_args()
    root = args.root or tempfile.mkdtemp(prefix='cuhk-sysu-size-')
    try:
        dataset = timed('generate the scenes',
                        lambda: build_dataset(args.seed))
        timed('write the tree (not part of loading)',
              lambda: write_cuhk_sysu(dataset, root, gallery_sizes=(50, 100)))
        for split in ('train', 'gallery', 'query'):
            loaded = timed(
                f'CUHKSYSUDataset {split}', lambda: CUHKSYSUDataset(
                    data_root=root,
                    split=split,
                    test_mode=split != 'train',
                    serialize_data=False,
                    pipeline=[]))
            boxes = sum(len(e['instances']) for e in loaded.data_list)
            print(f'  {len(loaded)} images, {boxes} boxes')
        for size in (50, 100):
            timed(f'TestG{size}.mat (metric)',
                  lambda: load_protocol(root, size))
    finally:
        if not args.keep and not args.root:
            shutil.rmtree(root)
        elif osp.isdir(root):
            print(f'tree kept in {root}')


if __name__ == '__main__':
    main()
