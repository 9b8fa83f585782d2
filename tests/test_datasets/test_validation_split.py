# Copyright (c) mmps contributors. All rights reserved.
import numpy as np
import pytest

from mmps.datasets.validation_split import (choose_validation_split,
                                            gallery_entries, holdout_entries,
                                            query_entries)
from mmps.registry import DATASETS
from .._fixtures import build_split, write_prw
from .test_synthetic import SMALL


def _entry(person_ids, ignore=()):
    return dict(
        img_path='x.jpg',
        img_id=0,
        instances=[
            dict(
                bbox=[0., 0., 1., 1.],
                bbox_label=0,
                ignore_flag=int(i in ignore),
                person_id=p) for i, p in enumerate(person_ids)
        ])


def _random_list(rng, num_images=60, num_ids=25):
    data_list = []
    for _ in range(num_images):
        count = int(rng.integers(0, 5))
        ids = rng.integers(-1, num_ids, size=count)
        data_list.append(_entry(ids.tolist()))
    return data_list


def _ids_by_image(data_list):
    return [{i['person_id']
             for i in e['instances'] if not i['ignore_flag']}
            for e in data_list]


def test_hand_computed_split():
    # id 0 in images 0 and 2; id 1 twice in image 1 only; id 2 in images 1,
    # 3 (ignored in 3); id 3 in images 2 and 3; image 4 has nobody known
    data_list = [
        _entry([0, -1]),
        _entry([1, 1, 2]),
        _entry([3, 0]),
        _entry([2, 3], ignore=(0, )),
        _entry([-1]),
    ]
    split = choose_validation_split(
        data_list, num_ids=1.0, num_distractor_images=0)
    # every eligible identity: id 1 has one image, id 2 one non-ignored one
    np.testing.assert_array_equal(split.person_ids, [0, 3])
    np.testing.assert_array_equal(split.query_images, [0, 2])
    np.testing.assert_array_equal(split.query_instances, [0, 0])
    np.testing.assert_array_equal(split.gallery_images, [0, 2, 3])

    gallery = gallery_entries(data_list, split)
    assert [[i['person_id'] for i in e['instances']]
            for e in gallery] == [[0, -1], [3, 0], [-1, 3]]
    assert [e['img_id'] for e in gallery] == [0, 1, 2]
    queries = query_entries(data_list, split)
    assert [(q['query_index'], q['is_query'], q['instances'][0]['person_id'])
            for q in queries] == [(0, True, 0), (1, True, 3)]
    # the source list is not changed
    assert data_list[3]['instances'][1]['person_id'] == 3

    train, num_person_ids = holdout_entries(data_list, split)
    assert num_person_ids == 2  # ids 1 and 2 remain, as 0 and 1
    assert [[i['person_id'] for i in e['instances']]
            for e in train] == [[-1, -1], [0, 0, 1], [-1, -1], [1, -1], [-1]]


def test_split_against_a_loop():
    rng = np.random.default_rng(7)
    data_list = _random_list(rng)
    split = choose_validation_split(
        data_list, num_ids=6, num_distractor_images=0.25, seed=11)
    by_image = _ids_by_image(data_list)
    images_of = {}
    for image, ids in enumerate(by_image):
        for person_id in ids:
            if person_id >= 0:
                images_of.setdefault(person_id, []).append(image)
    eligible = {p for p, images in images_of.items() if len(images) >= 2}
    chosen = split.person_ids.tolist()
    assert len(chosen) == 6 and set(chosen) <= eligible
    assert chosen == sorted(chosen)
    for person_id, image, position in zip(chosen, split.query_images,
                                          split.query_instances):
        first = min(images_of[person_id])
        assert image == first
        instances = data_list[image]['instances']
        assert position == [i['person_id'] for i in instances].index(person_id)
    showing = {i for p in chosen for i in images_of[p]}
    gallery = set(split.gallery_images.tolist())
    assert showing <= gallery
    others = len(data_list) - len(showing)
    assert len(gallery - showing) == int(round(0.25 * others))
    # every query has a ground truth in a gallery image other than its own
    for person_id, image in zip(chosen, split.query_images):
        assert any(person_id in by_image[g] for g in gallery if g != image)

    again = choose_validation_split(
        data_list, num_ids=6, num_distractor_images=0.25, seed=11)
    np.testing.assert_array_equal(again.person_ids, split.person_ids)
    np.testing.assert_array_equal(again.gallery_images, split.gallery_images)
    other_seeds = [
        choose_validation_split(data_list, num_ids=6, seed=s).person_ids
        for s in range(12, 16)
    ]
    assert any(not np.array_equal(s, split.person_ids) for s in other_seeds)

    train, num_person_ids = holdout_entries(data_list, split)
    kept = sorted({p for ids in by_image for p in ids if p >= 0} - set(chosen))
    assert num_person_ids == len(kept)
    for entry, source in zip(train, data_list):
        for instance, original in zip(entry['instances'], source['instances']):
            person_id = original['person_id']
            expected = kept.index(person_id) if person_id in kept else -1
            assert instance['person_id'] == expected


@pytest.mark.parametrize('kwargs,message', [
    (dict(num_ids=100), 'asks for 100 identities'),
    (dict(num_ids=0), 'asks for 0 identities'),
    (dict(num_ids=1.5), r'fraction must be in \(0, 1\]'),
    (dict(num_ids='5'), 'must be an int'),
    (dict(num_ids=2, num_distractor_images=10**6), 'distractor images'),
    (dict(num_ids=2, num_distractor_images=-1), 'must be >= 0'),
])
def test_bad_requests_are_named(kwargs, message):
    data_list = _random_list(np.random.default_rng(0))
    with pytest.raises((ValueError, TypeError), match=message):
        choose_validation_split(data_list, where='my.json', **kwargs)


def test_prw_fixture_by_hand(tmp_path):
    root = write_prw(tmp_path)
    # training ids 1, 2, 932 -> 0, 1, 2; only 932 is in two frames
    val = dict(num_ids=1, num_distractor_images=0)
    gallery = build_split('PRWDataset', root, 'val_gallery', val_split=val)
    assert [e['cam_id'] for e in gallery.data_list] == [1, 2]
    assert [[i['person_id'] for i in e['instances']]
            for e in gallery.data_list] == [[-1, -1, 2], [-1, 2]]
    query = build_split('PRWDataset', root, 'val_query', val_split=val)
    (entry, ) = query.data_list
    assert entry['is_query'] and entry['cam_id'] == 1
    np.testing.assert_allclose(entry['instances'][0]['bbox'], [50, 10, 65, 50])
    train = build_split(
        'PRWDataset', root, 'train', val_split=val, holdout_val=True)
    assert train.metainfo['num_person_ids'] == 2
    assert [[i['person_id'] for i in e['instances']]
            for e in train.data_list] == [[0, -1, -1], [1, -1]]


@pytest.mark.parametrize('dataset_type', [
    'SyntheticCUHKSYSUDataset', 'SyntheticPRWDataset',
    'SyntheticCocoPersonSearchDataset'
])
def test_every_format_validates_on_held_out_training_identities(
        tmp_path, dataset_type):
    root = tmp_path / dataset_type
    # every image of so small a set shows one of 3 identities: no
    # distractor is left
    val = dict(num_ids=3, num_distractor_images=0, seed=2)
    common = dict(synthetic_cfg=SMALL, val_split=val)
    train = build_split(dataset_type, root, 'train', **common)
    held = build_split(dataset_type, root, 'train', holdout_val=True, **common)
    evaluation = DATASETS.build(
        dict(
            type='GalleryQueryDataset',
            split='val',
            dataset=dict(
                type=dataset_type,
                data_root=str(root),
                serialize_data=False,
                pipeline=[],
                **common)))
    gallery, query = evaluation.datasets
    assert (gallery.split, query.split) == ('val_gallery', 'val_query')
    query_ids = [e['instances'][0]['person_id'] for e in query.data_list]
    assert len(query_ids) == 3 and len(set(query_ids)) == 3
    assert all(e['is_query'] for e in query.data_list)
    # the gallery labels the validation identities only, each in an image
    # other than its query's
    train_paths = [e['img_path'] for e in train.data_list]
    for entry in gallery.data_list:
        assert entry['img_path'] in train_paths
        labels = {i['person_id'] for i in entry['instances']}
        assert labels <= set(query_ids) | {-1}
    for person_id, entry in zip(query_ids, query.data_list):
        assert any(person_id in {i['person_id']
                                 for i in g['instances']}
                   and g['img_path'] != entry['img_path']
                   for g in gallery.data_list)
    # held out: the same images and boxes, the validation persons
    # unlabeled, 6 - 3 identities numbered 0..2 in order
    assert held.metainfo['num_person_ids'] == 3
    kept = sorted(set(range(6)) - set(query_ids))
    for before, after in zip(train.data_list, held.data_list):
        assert before['img_path'] == after['img_path']
        for a, b in zip(before['instances'], after['instances']):
            assert a['bbox'] == b['bbox']
            expected = kept.index(a['person_id']) \
                if a['person_id'] in kept else -1
            assert b['person_id'] == expected


def test_arguments_are_checked(tmp_path):
    root = write_prw(tmp_path)
    with pytest.raises(ValueError, match='holdout_val applies to the train'):
        build_split('PRWDataset', root, 'gallery', holdout_val=True)
    with pytest.raises(ValueError, match=r"unknown val_split keys \['ids'\]"):
        build_split('PRWDataset', root, 'train', val_split=dict(ids=3))
    with pytest.raises(ValueError, match="leave it out"):
        DATASETS.build(
            dict(
                type='GalleryQueryDataset',
                dataset=dict(type='PRWDataset', split='gallery')))
    with pytest.raises(ValueError, match="split must be one of"):
        DATASETS.build(
            dict(
                type='GalleryQueryDataset',
                split='train',
                dataset=dict(type='PRWDataset')))
