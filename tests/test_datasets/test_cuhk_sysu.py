# Copyright (c) mmps contributors. All rights reserved.
import os
import os.path as osp

import numpy as np
import pytest
from scipy.io import savemat

from mmps.datasets import CUHKSYSUDataset
from .._fixtures import CUHK_IMAGES, CUHK_TRAIN, build_split, write_cuhk_sysu


def _load(root, split, **kwargs):
    return build_split('CUHKSYSUDataset', root, split, **kwargs)


def _boxes_and_ids(entry):
    return ([i['bbox'] for i in entry['instances']],
            [i['person_id'] for i in entry['instances']])


def test_train_split(tmp_path):
    dataset = _load(write_cuhk_sysu(tmp_path), 'train')
    assert isinstance(dataset, CUHKSYSUDataset)
    assert dataset.metainfo['num_person_ids'] == len(CUHK_TRAIN) == 2
    names = [osp.basename(e['img_path']) for e in dataset.data_list]
    assert names == ['s1.jpg', 's2.jpg', 's3.jpg']
    # x, y, w, h -> x1, y1, x2, y2; the zero-width box of s1 is dropped;
    # p1 is identity 0 and p7 identity 1 (order of Train.mat)
    assert _boxes_and_ids(dataset.data_list[0]) == ([[1, 2, 11, 22],
                                                     [30, 5, 42, 30]], [0, -1])
    assert _boxes_and_ids(dataset.data_list[1]) == ([[5, 5, 15, 35],
                                                     [50, 10, 65, 50]], [1, 0])
    assert _boxes_and_ids(dataset.data_list[2])[1] == [1]
    entry = dataset.data_list[0]
    assert (entry['width'], entry['height']) == (80, 60)
    assert entry['img_id'] == 0
    assert entry['img_path'] == osp.join(
        str(tmp_path), 'Image', 'SSM', 's1.jpg')
    assert all(i['bbox_label'] == 0 and i['ignore_flag'] == 0
               for i in entry['instances'])
    assert 'is_query' not in entry


def test_gallery_split_labels_the_query_persons(tmp_path):
    dataset = _load(write_cuhk_sysu(tmp_path), 'gallery')
    assert 'num_person_ids' not in dataset.metainfo
    by_name = {osp.basename(e['img_path']): e for e in dataset.data_list}
    assert list(by_name) == ['s4.jpg', 's5.jpg', 's6.jpg']
    # the query box itself and the TestG gallery box of p10 are labeled 10
    assert _boxes_and_ids(by_name['s4.jpg'])[1] == [10, -1]
    assert _boxes_and_ids(by_name['s5.jpg'])[1] == [-1, 10]
    assert _boxes_and_ids(by_name['s6.jpg'])[1] == [12]


def test_query_split(tmp_path):
    dataset = _load(write_cuhk_sysu(tmp_path), 'query')
    assert len(dataset) == 2
    first = dataset.data_list[0]
    assert osp.basename(first['img_path']) == 's4.jpg'
    assert first['is_query'] is True and first['query_index'] == 0
    assert _boxes_and_ids(first) == ([[3, 4, 14, 26]], [10])
    assert dataset.data_list[1]['query_index'] == 1
    assert _boxes_and_ids(dataset.data_list[1])[1] == [12]


def test_missing_root_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='data_root'):
        _load(tmp_path / 'nowhere', 'train')
    root = write_cuhk_sysu(tmp_path)
    os.remove(osp.join(root, 'annotation', 'pool.mat'))
    with pytest.raises(FileNotFoundError, match='pool.mat'):
        _load(root, 'train')


def test_mat_without_the_key(tmp_path):
    root = write_cuhk_sysu(tmp_path)
    savemat(
        osp.join(root, 'annotation', 'Images.mat'), {'Images': np.zeros(1)})
    with pytest.raises(
            KeyError,
            match=r"Images.mat has none of the keys "
            r"\['Img'\]; it holds \['Images'\]"):
        _load(root, 'train')


def test_unmatched_training_box_is_an_error(tmp_path):
    train = dict(CUHK_TRAIN)
    train['p9'] = [('s3.jpg', (21, 10, 20, 45))]
    root = write_cuhk_sysu(tmp_path, train=train)
    with pytest.raises(
            ValueError,
            match=r"match no box.*person 2 in "
            r"'s3.jpg' at x, y, w, h = \[21.0, 10.0"):
        _load(root, 'train')


def test_query_outside_the_gallery_is_an_error(tmp_path):
    root = write_cuhk_sysu(tmp_path, pool=['s4.jpg', 's5.jpg'])
    with pytest.raises(
            ValueError,
            match="query 1 is in image 's6.jpg', "
            'which is not a gallery image'):
        _load(root, 'query')


def test_box_outside_the_image_is_an_error(tmp_path):
    images = {'s1.jpg': [(100, 2, 10, 20)], 's4.jpg': [(3, 4, 11, 22)]}
    root = write_cuhk_sysu(
        tmp_path, images=images, train={}, tests=[], pool=['s4.jpg'])
    with pytest.raises(
            ValueError,
            match=r's1.jpg\): box \[100.0, 2.0, '
            r'110.0, 22.0\].*outside its 80x60 image'):
        _load(root, 'train')


def test_wrong_split_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="split must be one of.*'test'"):
        _load(tmp_path, 'test')


def _labeled_box_tree(root, box):
    """s1.jpg holds one box, labeled p1 in Train.mat."""
    images = {
        's1.jpg': [box],
        's2.jpg': [(5, 5, 10, 30)],
        's4.jpg': [(3, 4, 11, 22)]
    }
    train = {'p1': [('s1.jpg', box), ('s2.jpg', (5, 5, 10, 30))]}
    return write_cuhk_sysu(
        root, images=images, train=train, tests=[], pool=['s4.jpg'])


@pytest.mark.parametrize(
    'box,message',
    [
        # wholly outside the 80 x 60 image
        ((100, 2, 10, 20), r'Images.mat \(s1.jpg\): box \[100.0, 2.0, 110.0, '
         r'22.0\] \(x1, y1, x2, y2\) lies outside its 80x60 image'),
        # pointing out of the image: a negative width has no area
        ((30, 2, -40, 20),
         r"Train.mat: person 0 in 's1.jpg' has the box x, y, "
         r'w, h = \[30.0, 2.0, -40.0, 20.0\], which is not finite or has no '
         r'area \(expected w > 0 and h > 0'),
    ])
def test_labeled_box_outside_its_image_is_reported_as_such(
        tmp_path, box, message):
    root = _labeled_box_tree(tmp_path, box)
    with pytest.raises(ValueError, match=message) as error:
        _load(root, 'train')
    assert 'match no box' not in str(error.value)


@pytest.mark.parametrize('box,split', [((np.nan, 2, 10, 20), 'train'),
                                       ((1, 2, np.nan, 20), 'train'),
                                       ((np.nan, 4, 11, 22), 'gallery')])
def test_boxes_that_are_not_finite_are_refused(tmp_path, box, split):
    images = dict(CUHK_IMAGES)
    name = 's1.jpg' if split == 'train' else 's4.jpg'
    images[name] = images[name] + [box]
    # named by its row in the file (s1.jpg's zero-width box counts)
    row = len(images[name]) - 1
    root = write_cuhk_sysu(tmp_path, images=images)
    with pytest.raises(
            ValueError,
            match=rf'Images.mat \({name}\): box {row} .* \(x, y, w, h\) '
            'is not finite'):
        _load(root, split)


def test_every_missing_image_is_listed_at_once(tmp_path):
    root = write_cuhk_sysu(tmp_path)
    for name in ('s1.jpg', 's3.jpg'):
        os.remove(osp.join(root, 'Image', 'SSM', name))
    with pytest.raises(
            ValueError,
            match=r'(?s)Images.mat: 2 of 3 images are missing.*'
            r'image not found: .*s1.jpg.*image not found: .*s3.jpg'):
        _load(root, 'train')
