# Copyright (c) mmps contributors. All rights reserved.
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmps.datasets.synthetic import (MARKER, SyntheticConfig, generate,
                                     generate_synthetic_dataset)
from .._fixtures import build_split

SMALL = dict(
    num_train_ids=6,
    num_test_ids=4,
    num_distractor_images=48,  # TestG50 needs 51 test images
    image_size=(96, 72),
    seed=3)


def _build(root, dataset_type, split):
    return build_split(dataset_type, root, split, synthetic_cfg=SMALL)


def test_generation_is_deterministic():
    first, second = generate(SyntheticConfig(**SMALL)), generate(
        SyntheticConfig(**SMALL))
    for a, b in zip(first.train + first.test, second.train + second.test):
        assert np.array_equal(a.image, b.image)
        assert np.array_equal(a.boxes, b.boxes)
    other = generate(SyntheticConfig(**{**SMALL, 'seed': 4}))
    assert not np.array_equal(first.train[0].image, other.train[0].image)


def test_train_and_test_identities_are_disjoint():
    data = generate(SyntheticConfig(**SMALL))
    train_ids = {int(i) for s in data.train for i in s.identities if i >= 0}
    test_ids = {int(i) for s in data.test for i in s.identities if i >= 0}
    assert train_ids == set(range(6))
    assert test_ids == set(range(6, 10))
    for identity, scene, box in data.queries:
        assert data.test[scene].identities[box] == identity
        # every query person appears in at least one other gallery image
        others = [
            s for i, s in enumerate(data.test)
            if i != scene and identity in s.identities
        ]
        assert others


@pytest.mark.parametrize('dataset_type,data_format', [
    ('SyntheticCUHKSYSUDataset', 'cuhk_sysu'),
    ('SyntheticPRWDataset', 'prw'),
    ('SyntheticCocoPersonSearchDataset', 'coco'),
])
def test_round_trip_through_the_real_loader(tmp_path, dataset_type,
                                            data_format):
    root = tmp_path / data_format
    truth = generate(SyntheticConfig(**SMALL))
    train = _build(root, dataset_type, 'train')
    assert json.load(open(osp.join(root, MARKER)))['format'] == data_format
    assert train.metainfo['num_person_ids'] == 6
    assert len(train) == len(truth.train)
    for entry, scene in zip(train.data_list, truth.train):
        boxes = [i['bbox'] for i in entry['instances']]
        np.testing.assert_array_equal(boxes, scene.boxes)
        # training identities are 0..5 in every format
        assert [i['person_id']
                for i in entry['instances']] == scene.identities.tolist()
        image = cv2.imread(entry['img_path'])
        assert image.shape == (72, 96, 3)

    gallery = _build(root, dataset_type, 'gallery')
    assert len(gallery) == len(truth.test)
    labeled = sum(i['person_id'] >= 0 for e in gallery.data_list
                  for i in e['instances'])
    assert labeled == sum((s.identities >= 0).sum() for s in truth.test)

    query = _build(root, dataset_type, 'query')
    assert len(query) == 4
    for entry, (identity, scene, box) in zip(query.data_list, truth.queries):
        np.testing.assert_array_equal(entry['instances'][0]['bbox'],
                                      truth.test[scene].boxes[box])
        # every format names identity i as i + 1
        assert entry['instances'][0]['person_id'] == identity + 1
        assert osp.basename(entry['img_path']) == osp.basename(
            gallery.data_list[scene]['img_path'])


def test_an_existing_tree_of_another_config_is_refused(tmp_path):
    generate_synthetic_dataset(
        str(tmp_path / 'd'), config=SyntheticConfig(**SMALL))
    with pytest.raises(ValueError, match='made with'):
        generate_synthetic_dataset(
            str(tmp_path / 'd'),
            config=SyntheticConfig(**{
                **SMALL, 'seed': 9
            }))
    (tmp_path / 'e').mkdir()
    (tmp_path / 'e' / 'mine.txt').write_text('user data')
    with pytest.raises(FileExistsError, match='not a synthetic dataset'):
        generate_synthetic_dataset(str(tmp_path / 'e'))


def test_cuhk_sysu_protocol_reads_as_the_reference_evaluations_read_it(
        tmp_path):
    """OIM's and SeqNet's CUHK-SYSU evaluations walk ``TestG*.mat`` with
    ``item[0][0]`` (image name) and ``item[1][0]`` (the box, empty where the
    person is absent): a gallery entry without the person must be a 1x0
    array, as in the real files, not 0x0."""
    from scipy.io import loadmat
    config = SyntheticConfig(**SMALL)
    root = generate_synthetic_dataset(
        str(tmp_path / 'cuhk'), 'cuhk_sysu', config)
    truth = generate(config)
    protocol = loadmat(
        osp.join(root, 'annotation', 'test', 'train_test',
                 'TestG50.mat'))['TestG50'].squeeze()
    assert len(protocol['Query']) == len(truth.queries)
    for k, (identity, scene, _) in enumerate(truth.queries):
        located, names = 0, []
        for item in protocol['Gallery'][k].squeeze():
            names.append(str(item[0][0]))
            box = item[1][0]
            assert box.size in (0, 4)
            located += box.size > 0
        holding = sum(1 for i, s in enumerate(truth.test)
                      if i != scene and identity in s.identities)
        assert len(names) == 50
        assert located == holding
