# Copyright (c) mmps contributors. All rights reserved.
"""The entries of a split, made at once, against a loop over entries."""
import numpy as np
import pytest

from mmps.datasets import CUHKSYSUDataset
from mmps.datasets.box_checks import check_boxes, clip_boxes_to_image


def entry_by_entry(dataset,
                   index,
                   name,
                   boxes,
                   ids,
                   where,
                   size,
                   cam=None,
                   query_index=None,
                   flags=None):
    """One entry, its boxes checked and clipped alone (the reference)."""
    named = f'{where} ({name})'
    width, height = (int(v) for v in size)
    boxes = clip_boxes_to_image(
        check_boxes(np.asarray(boxes).reshape(-1, 4), named), width, height,
        named)
    flags = np.zeros(len(boxes), int) if flags is None else flags
    entry = dict(
        img_path=dataset.image_path(name),
        img_id=index,
        width=width,
        height=height,
        instances=[
            dict(
                bbox=[float(v) for v in box],
                bbox_label=0,
                ignore_flag=int(flag),
                person_id=int(pid))
            for box, pid, flag in zip(boxes, ids, flags)
        ])
    if cam is not None:
        entry['cam_id'] = cam
    if query_index is not None:
        entry.update(is_query=True, query_index=query_index)
    return entry


@pytest.fixture
def dataset(tmp_path):
    return CUHKSYSUDataset(data_root=str(tmp_path), lazy_init=True)


def _random_entries(seed):
    """Boxes partly outside their images, some entries without boxes."""
    rng = np.random.default_rng(seed)
    count = 20
    sizes = rng.integers(50, 200, (count, 2))
    boxes, ids, flags = [], [], []
    for width, height in sizes:
        n = int(rng.integers(0, 5))
        x1 = rng.uniform(-10, width - 5, n)
        y1 = rng.uniform(-10, height - 5, n)
        boxes.append(
            np.stack([
                x1, y1, x1 + rng.uniform(3, 60, n), y1 + rng.uniform(3, 90, n)
            ], 1))
        ids.append(rng.integers(-1, 100, n))
        flags.append(rng.integers(0, 2, n))
    names = [f'{i}.jpg' for i in range(count)]
    return names, boxes, ids, flags, sizes


def test_equal_to_a_loop_over_entries(dataset):
    names, boxes, ids, flags, sizes = _random_entries(0)
    cams = [None if i % 3 == 0 else i % 4 for i in range(len(names))]
    got = dataset.make_data_list(
        names,
        boxes,
        ids, ['f.mat'] * len(names),
        sizes,
        cam_ids=cams,
        ignore_flags=flags)
    expected = [
        entry_by_entry(
            dataset,
            i,
            names[i],
            boxes[i],
            ids[i],
            'f.mat',
            sizes[i],
            cam=cams[i],
            flags=flags[i]) for i in range(len(names))
    ]
    assert got == expected
    assert any(len(b) == 0 for b in boxes)
    assert any(e['instances'] for e in got)
    # queries: one box each, without cameras and flags
    queries = dataset.make_data_list(
        names, [b[:1] for b in boxes], [i[:1] for i in ids],
        'q.txt',
        sizes,
        query_indices=range(len(names)))
    assert queries == [
        entry_by_entry(
            dataset,
            i,
            names[i],
            boxes[i][:1],
            ids[i][:1],
            'q.txt',
            sizes[i],
            query_index=i) for i in range(len(names))
    ]


@pytest.mark.parametrize('bad',
                         [[np.nan, 1, 5, 5], [4, 4, 4, 9], [300, 10, 320, 40]])
def test_the_first_bad_box_is_named_as_the_checks_name_it(dataset, bad):
    names, boxes, ids, _, sizes = _random_entries(1)
    boxes[7] = np.concatenate([boxes[7], [bad]])
    ids[7] = np.concatenate([ids[7], [3]])
    with pytest.raises(ValueError) as expected:
        entry_by_entry(dataset, 7, names[7], boxes[7], ids[7], 'w7', sizes[7])
    wheres = [f'w{i}' for i in range(len(names))]
    with pytest.raises(ValueError) as got:
        dataset.make_data_list(names, boxes, ids, wheres, sizes)
    assert str(got.value) == str(expected.value)
    assert 'w7 (7.jpg)' in str(got.value)
