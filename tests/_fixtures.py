# Copyright (c) mmps contributors. All rights reserved.
"""Tiny trees in the exact official formats of CUHK-SYSU and PRW.

Written here, independently of mmps' synthetic writer, with the awkward
parts of the real files: zero-size boxes, empty ``idlocate``, the three PRW
keys, negative and float coordinates, non-contiguous PRW ids, CRLF lines.
"""
import os
import os.path as osp

import cv2
import numpy as np
from scipy.io import savemat

IMAGE_SIZE = (80, 60)  # width, height


def build_split(dataset_type, root, split, **kwargs):
    """Build one split of a person search dataset, without a pipeline.

    The data list stays unserialised (``dataset.data_list``).
    """
    from mmps.registry import DATASETS
    return DATASETS.build(
        dict(
            type=dataset_type,
            data_root=str(root),
            split=split,
            test_mode=split != 'train',
            serialize_data=False,
            pipeline=[],
            **kwargs))


def _image(path, size=IMAGE_SIZE):
    os.makedirs(osp.dirname(path), exist_ok=True)
    width, height = size
    cv2.imwrite(path, np.full((height, width, 3), 127, dtype=np.uint8))


def _structs(fields, rows):
    """A 1 x N MATLAB struct array; rows are tuples in field order."""
    out = np.empty((1, len(rows)), dtype=[(f, object) for f in fields])
    for j, row in enumerate(rows):
        out[0, j] = tuple(row)
    return out


def _row(*values):
    return np.array([values], dtype=np.float64)


# CUHK-SYSU: image -> boxes (x, y, w, h); identities of Train.mat and TestG.
CUHK_IMAGES = {
    's1.jpg': [(1, 2, 10, 20), (30, 5, 12, 25), (40, 40, 0, 10)],
    's2.jpg': [(5, 5, 10, 30), (50, 10, 15, 40)],
    's3.jpg': [(20, 10, 20, 45)],
    's4.jpg': [(3, 4, 11, 22), (60, 10, 15, 30)],
    's5.jpg': [(10, 12, 14, 33), (40, 2, 10, 20)],
    's6.jpg': [(25, 15, 16, 40)],
}
CUHK_POOL = ['s4.jpg', 's5.jpg', 's6.jpg']
# identity name -> [(image, box)]
CUHK_TRAIN = {
    'p1': [('s1.jpg', (1, 2, 10, 20)), ('s2.jpg', (50, 10, 15, 40))],
    'p7': [('s2.jpg', (5, 5, 10, 30)), ('s3.jpg', (20, 10, 20, 45))],
}
# query identity, query (image, box), gallery [(image, box or None)]
CUHK_TESTS = [
    ('p10', ('s4.jpg', (3, 4, 11, 22)), [('s5.jpg', (40, 2, 10, 20)),
                                         ('s6.jpg', None)]),
    ('p12', ('s6.jpg', (25, 15, 16, 40)), [('s4.jpg', None),
                                           ('s5.jpg', None)]),
]


def _protocol_structs(tests):
    """A TestG-like struct array: Query and Gallery per entry."""
    entries = []
    for idname, (qname, qbox), gallery in tests:
        query = _structs(
            ('imname', 'idlocate', 'ishard', 'idname'),
            [(np.array([qname]), _row(*qbox), _row(0), np.array([idname]))])
        gallery_structs = _structs(
            ('imname', 'idlocate', 'ishard'),
            [(np.array([n]), _row(*b) if b is not None else np.zeros(
                (1, 0)), _row(0)) for n, b in gallery])
        entries.append((query, gallery_structs))
    return _structs(('Query', 'Gallery'), entries)


def write_cuhk_sysu_subset(root, file_name, key, tests):
    """Write an evaluation subset file (e.g. Occlusion.mat, Occlusion1)."""
    folder = osp.join(root, 'annotation', 'test', 'subset')
    os.makedirs(folder, exist_ok=True)
    savemat(osp.join(folder, file_name), {key: _protocol_structs(tests)})


def write_cuhk_sysu(root, images=None, train=None, tests=None, pool=None):
    """Write a tiny CUHK-SYSU tree; arguments override the module data."""
    images = CUHK_IMAGES if images is None else images
    train = CUHK_TRAIN if train is None else train
    tests = CUHK_TESTS if tests is None else tests
    pool = CUHK_POOL if pool is None else pool
    for name in images:
        _image(osp.join(root, 'Image', 'SSM', name))
    ann = osp.join(root, 'annotation')
    protocol = osp.join(ann, 'test', 'train_test')
    os.makedirs(protocol, exist_ok=True)
    img = _structs(('imname', 'nAppear', 'box'),
                   [(np.array([name]), _row(len(boxes)),
                     _structs(('idlocate', 'ishard'), [(_row(*b), _row(0))
                                                       for b in boxes]))
                    for name, boxes in images.items()])
    savemat(osp.join(ann, 'Images.mat'), {'Img': img})
    pool_cell = np.empty((len(pool), 1), dtype=object)
    for i, name in enumerate(pool):
        pool_cell[i, 0] = np.array([name])
    savemat(osp.join(ann, 'pool.mat'), {'pool': pool_cell})
    train_cell = np.empty((len(train), 1), dtype=object)
    for i, (idname, scenes) in enumerate(train.items()):
        train_cell[i,
                   0] = _structs(('idname', 'nAppear', 'scene'),
                                 [(np.array([idname]), _row(len(scenes)),
                                   _structs(('imname', 'idlocate', 'ishard'),
                                            [(np.array([n]), _row(*b), _row(0))
                                             for n, b in scenes]))])
    savemat(osp.join(protocol, 'Train.mat'), {'Train': train_cell})
    for size in (50, 100):
        savemat(
            osp.join(protocol, f'TestG{size}.mat'),
            {f'TestG{size}': _protocol_structs(tests)})
    return root


# PRW: frame -> (key, rows [id, x, y, w, h])
PRW_FRAMES = {
    'c1s1_000001': ('box_new', [[1, -3.5, 2, 10, 20], [-2, 30, 5, 12, 25],
                                [932, 50, 10, 15, 40]]),
    'c2s1_000002': ('anno_file', [[2, 5, 5, 10, 30], [932, 40, 8, 12, 30.5]]),
    'c3s2_000003': ('anno_previous', [[605, 10, 10, 14, 33],
                                      [-2, 40, 2, 10, 20]]),
    'c6s2_000004': ('box_new', [[605, 30, 12, 15, 35]]),
}
PRW_TRAIN = ['c1s1_000001', 'c2s1_000002']
PRW_TEST = ['c3s2_000003', 'c6s2_000004']
PRW_QUERIES = '605 -1.7030 10.5756 14.6436 33.2289 c3s2_000003\r\n'


def write_prw(root, frames=None, queries=None, test=None):
    """Write a tiny PRW tree; arguments override the module data."""
    frames = PRW_FRAMES if frames is None else frames
    queries = PRW_QUERIES if queries is None else queries
    test = PRW_TEST if test is None else test
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    for frame, (key, rows) in frames.items():
        _image(osp.join(root, 'frames', f'{frame}.jpg'))
        savemat(
            osp.join(root, 'annotations', f'{frame}.jpg.mat'),
            {key: np.array(rows, dtype=np.float64).reshape(-1, 5)})
    for split, names in (('train', PRW_TRAIN), ('test', test)):
        cell = np.empty((len(names), 1), dtype=object)
        for i, name in enumerate(names):
            cell[i, 0] = np.array([name])
        savemat(
            osp.join(root, f'frame_{split}.mat'), {f'img_index_{split}': cell})
    with open(osp.join(root, 'query_info.txt'), 'w', newline='') as f:
        f.write(queries)
    savemat(
        osp.join(root, 'ID_train.mat'), {'ID_train': np.array([[1, 2, 932]])})
    savemat(osp.join(root, 'ID_test.mat'), {'ID_test2': np.array([[605]])})
    return root
