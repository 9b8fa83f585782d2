# Copyright (c) mmps contributors. All rights reserved.
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

from ..._fixtures import write_prw


def _pipeline(flip_prob):
    return Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadPersonSearchAnnotations', with_bbox=True),
        dict(type='Resize', scale=(160, 120), keep_ratio=True),
        dict(type='RandomFlip', prob=flip_prob),
        dict(type='PackPersonSearchInputs'),
    ])


def test_person_ids_follow_their_boxes_through_flip_and_resize(tmp_path):
    root = write_prw(tmp_path)
    info = dict(
        img_path=f'{root}/frames/c1s1_000001.jpg',
        img_id=0,
        cam_id=1,
        instances=[
            dict(
                bbox=[0, 2, 6.5, 22], bbox_label=0, ignore_flag=0,
                person_id=0),
            dict(
                bbox=[30, 5, 42, 30],
                bbox_label=0,
                ignore_flag=0,
                person_id=-1),
            dict(
                bbox=[50, 10, 65, 50],
                bbox_label=0,
                ignore_flag=1,
                person_id=2),
        ])
    packed = _pipeline(flip_prob=1.0)(dict(info))
    sample = packed['data_samples']
    assert packed['inputs'].shape == (3, 120, 160)
    gt = sample.gt_instances
    assert gt.person_ids.tolist() == [0, -1]
    assert sample.ignored_instances.person_ids.tolist() == [2]
    # x2 = 6.5 at scale 2 is 13, flipped in a 160-wide image: x1 = 147
    np.testing.assert_allclose(gt.bboxes.tensor[0].numpy(), [147, 4, 160, 44])
    assert sample.metainfo['cam_id'] == 1
    assert sample.metainfo['flip'] is True
    assert 'is_query' not in sample.metainfo


def test_query_keys_reach_the_metainfo(tmp_path):
    root = write_prw(tmp_path)
    info = dict(
        img_path=f'{root}/frames/c3s2_000003.jpg',
        img_id=0,
        is_query=True,
        query_index=4,
        instances=[
            dict(
                bbox=[0, 10, 13, 44],
                bbox_label=0,
                ignore_flag=0,
                person_id=605)
        ])
    sample = _pipeline(flip_prob=0.0)(info)['data_samples']
    assert sample.metainfo['is_query'] is True
    assert sample.metainfo['query_index'] == 4
    assert sample.gt_instances.person_ids.dtype == torch.int64


def test_missing_person_id_is_a_clear_error(tmp_path):
    root = write_prw(tmp_path)
    info = dict(
        img_path=f'{root}/frames/c3s2_000003.jpg',
        img_id=0,
        instances=[dict(bbox=[0, 10, 13, 44], bbox_label=0, ignore_flag=0)])
    with pytest.raises(
            KeyError,
            match='instance 0 of .*c3s2_000003.jpg has '
            'no `person_id`'):
        _pipeline(flip_prob=0.0)(info)


@pytest.mark.parametrize('bbox,problem', [
    ([np.nan, 10, 13, 44], 'is not finite'),
    ([0, 10, 13, np.inf], 'is not finite'),
    ([13, 10, 13, 44], 'has no area'),
    ([0, 44, 13, 10], 'has no area'),
])
def test_boxes_that_are_not_finite_or_empty_are_refused(
        tmp_path, bbox, problem):
    # they would stop mmcv's RoIAlign with an internal assertion
    root = write_prw(tmp_path)
    info = dict(
        img_path=f'{root}/frames/c3s2_000003.jpg',
        img_id=0,
        instances=[
            dict(
                bbox=[0, 10, 13, 44], bbox_label=0, ignore_flag=0,
                person_id=1),
            dict(bbox=bbox, bbox_label=0, ignore_flag=0, person_id=2)
        ])
    with pytest.raises(
            ValueError,
            match=r'annotations of .*c3s2_000003.jpg: instance 1 .* '
            f'{problem}'):
        _pipeline(flip_prob=0.0)(info)
