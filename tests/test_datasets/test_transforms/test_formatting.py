# Copyright (c) mmps contributors. All rights reserved.
"""The checks of ``PackPersonSearchInputs``: ids never packed misaligned."""
import numpy as np
import pytest
from mmdet.structures.bbox import HorizontalBoxes

from mmps.registry import TRANSFORMS

BOXES = [[0, 0, 10, 20], [20, 0, 30, 20], [40, 0, 50, 20]]


def _entry() -> dict:
    """A data list entry with an image of 3 persons, the last ignored."""
    return dict(
        img=np.zeros((20, 60, 3), dtype=np.uint8),
        img_shape=(20, 60),
        img_path='img.jpg',
        instances=[
            dict(bbox=box, bbox_label=0, ignore_flag=flag, person_id=pid)
            for box, pid, flag in zip(BOXES, (4, -1, 6), (0, 0, 1))
        ])


def _loaded(with_person_id: bool = True) -> dict:
    """The entry after ``LoadPersonSearchAnnotations``."""
    return TRANSFORMS.build(
        dict(
            type='LoadPersonSearchAnnotations',
            with_bbox=True,
            with_person_id=with_person_id))(
                _entry())


def _pack(results: dict) -> dict:
    return TRANSFORMS.build(dict(type='PackPersonSearchInputs'))(results)


def test_packs_the_labels_and_ids_of_the_loaded_sample():
    loaded = _loaded()
    assert loaded['person_ids_in_labels'] is True
    assert (loaded['gt_bboxes_labels'] < 0).all()
    sample = _pack(loaded)['data_samples']
    assert sample.gt_instances.person_ids.tolist() == [4, -1]
    assert sample.gt_instances.labels.tolist() == [0, 0]
    assert sample.ignored_instances.person_ids.tolist() == [6]
    assert sample.ignored_instances.labels.tolist() == [0]
    assert 'person_ids_in_labels' not in sample.metainfo
    # the results of the pipeline are not changed by the packing
    assert (loaded['gt_bboxes_labels'] < 0).all()


def test_a_box_dropped_without_its_label_is_refused():
    loaded = _loaded()
    loaded['gt_bboxes'] = loaded['gt_bboxes'][:2]
    with pytest.raises(
            ValueError,
            match='img.jpg: 3 values of gt_bboxes_labels for 2 boxes: a '
            'transform dropped or added boxes without indexing '
            'gt_bboxes_labels'):
        _pack(loaded)


@pytest.mark.parametrize('num_ids', [2, 4])
def test_gt_person_ids_of_another_length_than_the_boxes_are_refused(num_ids):
    # a sample not loaded by LoadPersonSearchAnnotations, e.g. by a
    # user's own loading transform, whose boxes a transform then cropped
    results = dict(
        img=np.zeros((20, 60, 3), dtype=np.uint8),
        img_path='img.jpg',
        gt_bboxes=HorizontalBoxes(np.array(BOXES, dtype=np.float32)),
        gt_bboxes_labels=np.zeros(3, dtype=np.int64),
        gt_ignore_flags=np.zeros(3, dtype=bool),
        gt_person_ids=np.arange(num_ids))
    with pytest.raises(
            ValueError,
            match=f'img.jpg: {num_ids} values of gt_person_ids for 3 boxes'
            '.* Load person ids with LoadPersonSearchAnnotations'):
        _pack(results)
    results['gt_person_ids'] = np.array([7, 8, 9])
    sample = _pack(results)['data_samples']
    assert sample.gt_instances.person_ids.tolist() == [7, 8, 9]


def test_labels_replaced_by_a_transform_are_refused():
    loaded = _loaded()
    loaded['gt_bboxes_labels'][2] = 0
    with pytest.raises(
            ValueError,
            match=r'img.jpg: gt_bboxes_labels\[2\] is 0, not a label '
            'carrying a person id.*a transform after it replaced the labels'):
        _pack(loaded)


def test_ids_both_in_the_labels_and_in_gt_person_ids_are_refused():
    loaded = _loaded()
    loaded['gt_person_ids'] = np.array([4, -1, 6])
    with pytest.raises(
            ValueError, match='img.jpg: gt_person_ids was set by a transform'):
        _pack(loaded)


def test_codes_mixed_into_a_sample_loaded_without_ids_are_refused():
    # as Mosaic would mix a loaded sample into one loaded without ids
    plain = _loaded(with_person_id=False)
    plain['gt_bboxes_labels'][1] = _loaded()['gt_bboxes_labels'][0]
    with pytest.raises(
            ValueError, match='img.jpg: gt_bboxes_labels has negative values'):
        _pack(plain)


def test_without_person_ids_the_labels_are_packed_as_they_are():
    results = _loaded(with_person_id=False)
    assert 'person_ids_in_labels' not in results
    sample = _pack(results)['data_samples']
    assert sample.gt_instances.labels.tolist() == [0, 0]
    assert 'person_ids' not in sample.gt_instances


def test_person_ids_need_the_labels():
    with pytest.raises(
            ValueError, match='with_person_id=True needs '
            'with_label=True'):
        TRANSFORMS.build(
            dict(type='LoadPersonSearchAnnotations', with_label=False))
