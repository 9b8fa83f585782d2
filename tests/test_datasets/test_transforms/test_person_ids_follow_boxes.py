# Copyright (c) mmps contributors. All rights reserved.
"""Person ids stay with their boxes through mmdet's transforms.

The reference is independent of any bookkeeping of ids: each person's box
is painted on the image in a colour that encodes its id (channel 0 is
``id + 2``, channel 1 is 255, the background is black), and after the
pipeline the id packed with each surviving box must be the colour found
inside that box. Every transform below moves the image and the boxes
together without rotation, so a surviving box (clipped or not) still
covers pixels of its own painted region only.
"""
import random

import numpy as np
import pytest
from mmengine.dataset import Compose

# x1, y1, x2, y2 in a 200 x 120 image, separated by gaps of 4 px or more; the
# 2nd and the 6th are too small for FILTER and are always dropped.
BOXES = [(4, 6, 34, 96), (100, 80, 105, 86), (40, 20, 64, 110),
         (70, 4, 110, 60), (116, 30, 150, 116), (160, 90, 164, 94),
         (156, 8, 196, 70)]
IGNORED = 3  # ignored by the detector's training
HEIGHT, WIDTH = 120, 200
MARGIN = 2  # px of a box's border left out: interpolation blurs them
FILTER = dict(
    type='FilterAnnotations', min_gt_bbox_wh=(8, 8), keep_empty=False)
RANDOM_AFFINE = dict(
    type='RandomAffine',
    max_rotate_degree=0,
    max_shear_degree=0,
    max_translate_ratio=0.1,
    scaling_ratio_range=(0.8, 1.25))


def _person_ids(image_index: int) -> list:
    """Ids of BOXES in image ``image_index``: the 3rd is unlabeled (-1)."""
    first = 10 * image_index
    return [first, first + 1, -1] + list(range(first + 2, first + 6))


def _painted_sample(image_index: int = 0, dtype=np.uint8) -> dict:
    """A data list entry whose image shows each box in its id's colour."""
    img = np.zeros((HEIGHT, WIDTH, 3), dtype=dtype)
    instances = []
    for index, (box,
                person_id) in enumerate(zip(BOXES, _person_ids(image_index))):
        x1, y1, x2, y2 = box
        img[y1:y2, x1:x2] = (person_id + 2, 255, 0)
        instances.append(
            dict(
                bbox=list(map(float, box)),
                bbox_label=0,
                ignore_flag=int(index == IGNORED),
                person_id=person_id))
    return dict(
        img=img,
        img_shape=(HEIGHT, WIDTH),
        ori_shape=(HEIGHT, WIDTH),
        img_id=image_index,
        img_path=f'painted_{image_index}.png',
        instances=instances)


def _painted_ids(image: np.ndarray, boxes: np.ndarray) -> list:
    """The id painted inside each box: the median colour of its inside.

    Args:
        image (np.ndarray): The packed image, (3, H, W).
        boxes (np.ndarray): Boxes ``x1, y1, x2, y2``, (N, 4).

    Returns:
        list[int]: The id of each box, read from its pixels.
    """
    ids = []
    for x1, y1, x2, y2 in boxes:
        inside = image[:,
                       int(np.ceil(y1)) + MARGIN:int(np.floor(y2)) - MARGIN,
                       int(np.ceil(x1)) + MARGIN:int(np.floor(x2)) - MARGIN]
        assert inside[0].size > 0, 'the box is too small to be read'
        assert np.median(inside[1]) == 255, 'the box shows no person'
        ids.append(int(np.median(inside[0])) - 2)
    return ids


def _check_packed(packed: dict) -> tuple:
    """Assert each packed box's id is the one painted inside it.

    Returns:
        tuple[list[int], list[int]]: The packed ids of the kept and of the
        ignored boxes.
    """
    image = packed['inputs'].numpy()
    sample = packed['data_samples']
    found = []
    for instances in (sample.gt_instances, sample.ignored_instances):
        ids = instances.person_ids.tolist()
        assert len(ids) == len(instances.bboxes)
        assert ids == _painted_ids(image, instances.bboxes.tensor.numpy())
        assert instances.labels.tolist() == [0] * len(ids)
        found.append(ids)
    return tuple(found)


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


RANDOM_CROP = dict(
    type='RandomCrop',
    crop_size=(0.5, 0.5),
    crop_type='relative_range',
    allow_negative_crop=True)
# it needs a float32 image
RANDOM_CENTER_CROP_PAD = dict(
    type='RandomCenterCropPad',
    crop_size=(96, 96),
    ratios=(0.8, 1.0, 1.2),
    border=32,
    mean=[0, 0, 0],
    std=[1, 1, 1],
    to_rgb=False,
    test_pad_mode=None)


@pytest.mark.parametrize(
    'transforms,dtype', [
        ([RANDOM_CROP], np.uint8),
        ([dict(type='MinIoURandomCrop')], np.uint8),
        ([RANDOM_AFFINE], np.uint8),
        ([dict(type='RandomShift', prob=1.0, max_shift_px=48)], np.uint8),
        ([RANDOM_CENTER_CROP_PAD], np.float32),
        ([RANDOM_AFFINE,
          dict(type='MinIoURandomCrop'), RANDOM_CROP], np.uint8),
    ],
    ids=[
        'RandomCrop', 'MinIoURandomCrop', 'RandomAffine', 'RandomShift',
        'RandomCenterCropPad', 'chain'
    ])
def test_person_ids_follow_their_boxes(transforms, dtype):
    pipeline = Compose([
        dict(type='LoadPersonSearchAnnotations', with_bbox=True), *transforms,
        FILTER,
        dict(type='PackPersonSearchInputs')
    ])
    original = _person_ids(0)
    not_ignored = original[:IGNORED] + original[IGNORED + 1:]
    num_kept, num_shifted = 0, 0
    for seed in range(12):
        _seed(seed)
        kept, ignored = _check_packed(pipeline(_painted_sample(dtype=dtype)))
        assert set(ignored) <= {original[IGNORED]}
        num_kept += len(kept)
        # a box dropped before a kept one: ids left in place would be wrong
        num_shifted += kept != not_ignored[:len(kept)]
    # the test can fail: boxes survive, and some in other places
    assert num_kept >= 12
    assert num_shifted > 0


def test_person_ids_follow_their_boxes_through_mosaic():
    load = Compose([dict(type='LoadPersonSearchAnnotations', with_bbox=True)])
    pipeline = Compose([
        dict(type='Mosaic', img_scale=(160, 160), pad_val=0), RANDOM_AFFINE,
        FILTER,
        dict(type='PackPersonSearchInputs')
    ])
    num_images = 0
    for seed in range(8):
        _seed(seed)
        results = load(_painted_sample(0))
        results['mix_results'] = [load(_painted_sample(i)) for i in (1, 2, 3)]
        kept, _ = _check_packed(pipeline(results))
        # the ids of several images, each of its own box
        num_images += len({i // 10 for i in kept if i >= 0}) > 1
    assert num_images > 0


def test_filter_annotations_drops_the_small_boxes_with_their_ids():
    pipeline = Compose([
        dict(type='LoadPersonSearchAnnotations', with_bbox=True), FILTER,
        dict(type='PackPersonSearchInputs')
    ])
    kept, ignored = _check_packed(pipeline(_painted_sample(3)))
    assert kept == [30, -1, 33, 35]
    assert ignored == [32]
