# Copyright (c) mmps contributors. All rights reserved.
import os
import os.path as osp

import numpy as np
import pytest
from scipy.io import savemat

from mmps.datasets import PRWDataset
from mmps.datasets.prw import camera_of
from .._fixtures import PRW_FRAMES, build_split, write_prw


def _load(root, split):
    return build_split('PRWDataset', root, split)


def _ids(entry):
    return [i['person_id'] for i in entry['instances']]


def test_train_split_maps_non_contiguous_ids(tmp_path):
    dataset = _load(write_prw(tmp_path), 'train')
    assert isinstance(dataset, PRWDataset)
    # distinct training ids 1, 2, 932 -> 0, 1, 2; -2 is unlabeled
    assert dataset.metainfo['num_person_ids'] == 3
    first, second = dataset.data_list
    assert _ids(first) == [0, -1, 2]
    assert _ids(second) == [1, 2]
    # negative x clipped to 0; float coordinates kept
    assert first['instances'][0]['bbox'] == [0.0, 2.0, 6.5, 22.0]
    assert second['instances'][1]['bbox'] == [40.0, 8.0, 52.0, 38.5]
    assert (first['cam_id'], second['cam_id']) == (1, 2)
    assert first['img_path'] == osp.join(
        str(tmp_path), 'frames', 'c1s1_000001.jpg')


def test_gallery_split_keeps_raw_test_ids(tmp_path):
    dataset = _load(write_prw(tmp_path), 'gallery')
    assert [_ids(e) for e in dataset.data_list] == [[605, -1], [605]]
    assert [e['cam_id'] for e in dataset.data_list] == [3, 6]


def test_query_split_reads_crlf_lines_and_float_boxes(tmp_path):
    dataset = _load(write_prw(tmp_path), 'query')
    (query, ) = dataset.data_list
    assert query['is_query'] is True and query['query_index'] == 0
    assert _ids(query) == [605]
    assert query['cam_id'] == 3
    np.testing.assert_allclose(
        query['instances'][0]['bbox'],
        [0.0, 10.5756, -1.7030 + 14.6436, 10.5756 + 33.2289],
        rtol=1e-6)


def test_blank_lines_are_skipped_and_bad_lines_named(tmp_path):
    queries = ('\r\n605 1 2 10 20 c3s2_000003\r\n\r\n'
               '605 1 2 10 20 c6s2_000004\r\n')
    dataset = _load(write_prw(tmp_path, queries=queries), 'query')
    assert len(dataset) == 2
    bad = write_prw(tmp_path / 'bad', queries='605 1 2 10 c3s2_000003\r\n')
    with pytest.raises(ValueError, match=r'query_info.txt:1: expected'):
        _load(bad, 'query')


def test_query_outside_the_test_frames_is_an_error(tmp_path):
    root = write_prw(tmp_path, test=['c6s2_000004'])
    with pytest.raises(
            ValueError, match="frame 'c3s2_000003', which is not "
            'a test frame'):
        _load(root, 'query')


def test_annotation_without_a_known_key(tmp_path):
    root = write_prw(tmp_path)
    savemat(
        osp.join(root, 'annotations', 'c2s1_000002.jpg.mat'),
        {'boxes': np.zeros((1, 5))})
    with pytest.raises(
            KeyError,
            match=r"none of the keys \['box_new', "
            r"'anno_file', 'anno_previous'\]"):
        _load(root, 'train')


def test_missing_annotation_file(tmp_path):
    frames = dict(PRW_FRAMES)
    del frames['c2s1_000002']
    root = write_prw(tmp_path, frames=frames)
    with pytest.raises(FileNotFoundError, match='c2s1_000002.jpg.mat'):
        _load(root, 'train')


def test_camera_of():
    assert camera_of('c3s2_012345') == 3
    assert camera_of('frames/c6s1_000001.jpg') == 6
    with pytest.raises(ValueError, match='x3s2'):
        camera_of('x3s2_000001')


def test_boxes_that_are_not_finite_or_empty_are_named(tmp_path):
    frames = dict(PRW_FRAMES)
    frames['c2s1_000002'] = ('anno_file', [[2, 5, 5, 10, 30],
                                           [932, np.nan, 8, 12, 30.5]])
    root = write_prw(tmp_path / 'nan', frames=frames)
    with pytest.raises(
            ValueError,
            match=r'c2s1_000002.jpg.mat \(c2s1_000002.jpg\): box 1 '
            r'\[nan, 8.0, nan, 38.5\] \(x1, y1, x2, y2\) is not finite'):
        _load(root, 'train')
    frames['c2s1_000002'] = ('anno_file', [[2, 5, 5, -10, 30]])
    root = write_prw(tmp_path / 'empty', frames=frames)
    with pytest.raises(ValueError, match=r'box 0 .* has no area'):
        _load(root, 'train')
    root = write_prw(
        tmp_path / 'query', queries='605 1 2 nan 20 c3s2_000003\r\n')
    with pytest.raises(
            ValueError,
            match=r'query_info.txt \(c3s2_000003.jpg\): box 0 .* '
            'is not finite'):
        _load(root, 'query')


def test_every_missing_frame_is_listed_at_once(tmp_path):
    root = write_prw(tmp_path)
    for frame in ('c3s2_000003', 'c6s2_000004'):
        os.remove(osp.join(root, 'frames', f'{frame}.jpg'))
    with pytest.raises(
            ValueError,
            match=r'(?s)frame_test.mat: 2 of 2 images are missing.*'
            r'c3s2_000003.jpg.*c6s2_000004.jpg'):
        _load(root, 'gallery')
