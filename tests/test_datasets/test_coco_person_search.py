# Copyright (c) mmps contributors. All rights reserved.
"""CocoPersonSearchDataset on hand-written files of the custom format."""
import copy
import json

import numpy as np
import pytest

from .._fixtures import IMAGE_SIZE, _image, build_split

TRAIN = dict(
    images=[
        # sizes given ...
        dict(id=10, file_name='a.jpg', width=80, height=60, cam_id=1),
        # ... or read from the image
        dict(id=20, file_name='sub/b.jpg'),
    ],
    annotations=[
        # interleaved images, non-contiguous ids, unlabeled, crowd
        dict(id=1, image_id=20, bbox=[1, 2, 10, 20], person_id=40),
        dict(id=2, image_id=10, bbox=[5, 5, 10, 30], person_id=17),
        dict(id=3, image_id=10, bbox=[30, 5, 10, 30], person_id=-1),
        dict(id=4, image_id=20, bbox=[40, 0, 20, 50], person_id=17, iscrowd=1),
        dict(id=5, image_id=10, bbox=[-4, 10, 20, 20], person_id=3),
    ])
TEST = dict(
    images=[
        dict(id=1, file_name='c.jpg', cam_id=2),
        dict(id=2, file_name='d.jpg', cam_id=3),
    ],
    annotations=[
        dict(image_id=1, bbox=[10, 10, 10, 30], person_id=500),
        dict(image_id=2, bbox=[20, 10, 10, 30], person_id=500),
        dict(image_id=2, bbox=[40, 10, 10, 30], person_id=-1),
    ],
    queries=[dict(image_id=1, bbox=[10, 10, 10, 30], person_id=500)])


def write_tree(root, train=TRAIN, test=TEST):
    for name in ('a.jpg', 'sub/b.jpg', 'c.jpg', 'd.jpg'):
        _image(str(root / 'images' / name))
    (root / 'annotations').mkdir(exist_ok=True)
    for name, content in (('train', train), ('test', test)):
        (root / 'annotations' / f'{name}.json').write_text(json.dumps(content))


def build(root, split, ann_file=None):
    ann_file = ann_file or ('annotations/train.json'
                            if split == 'train' else 'annotations/test.json')
    return build_split(
        'CocoPersonSearchDataset', root, split, ann_file=ann_file)


def test_train_split(tmp_path):
    write_tree(tmp_path)
    dataset = build(tmp_path, 'train')
    # distinct labeled ids 3, 17, 40 -> 0, 1, 2
    assert dataset.metainfo['num_person_ids'] == 3
    a, b = dataset.data_list
    assert a['img_path'].endswith('images/a.jpg') and a['cam_id'] == 1
    assert [i['person_id'] for i in a['instances']] == [1, -1, 0]
    # the box with x = -4 is clipped to the image
    np.testing.assert_allclose(
        [i['bbox'] for i in a['instances']],
        [[5, 5, 15, 35], [30, 5, 40, 35], [0, 10, 16, 30]])
    assert (b['width'], b['height']) == IMAGE_SIZE
    assert 'cam_id' not in b
    assert [i['person_id'] for i in b['instances']] == [2, 1]
    assert [i['ignore_flag'] for i in b['instances']] == [0, 1]


def test_gallery_and_query_splits(tmp_path):
    write_tree(tmp_path)
    gallery = build(tmp_path, 'gallery')
    assert [[i['person_id'] for i in e['instances']]
            for e in gallery.data_list] == [[500], [500, -1]]
    query = build(tmp_path, 'query')
    (entry, ) = query.data_list
    assert entry['is_query'] and entry['query_index'] == 0
    assert entry['cam_id'] == 2
    assert entry['instances'][0]['bbox'] == [10, 10, 20, 40]
    assert entry['instances'][0]['person_id'] == 500


def test_scored_with_the_prw_protocol(tmp_path):
    from mmps.evaluation.metrics.search_protocols import prw_settings
    write_tree(tmp_path)
    gallery = [
        dict(
            img_path=e['img_path'],
            cam_id=e['cam_id'],
            gt_bboxes=np.array([i['bbox'] for i in e['instances']]),
            gt_person_ids=np.array([i['person_id'] for i in e['instances']]))
        for e in build(tmp_path, 'gallery').data_list
    ]
    queries = [
        dict(
            img_path=e['img_path'],
            cam_id=e['cam_id'],
            gt_person_ids=np.array([e['instances'][0]['person_id']]))
        for e in build(tmp_path, 'query').data_list
    ]
    settings = prw_settings(gallery, queries, cross_camera=True)
    # the query's own image is left out: its person is in d.jpg only
    assert settings[0].ground_truth.image_index.tolist() == [1]


def _broken(original=TRAIN, **changes):
    content = copy.deepcopy(original)
    for path, value in changes.items():
        section, index, key = path.split('__')
        content[section][int(index)][key] = value
    return content


@pytest.mark.parametrize('content,error,message', [
    (_broken(annotations__0__person_id=None), TypeError,
     r'annotations\[0\]: .person_id. must be int'),
    (_broken(annotations__1__image_id=99), ValueError,
     r'annotations\[1\] refers to image_id 99'),
    (_broken(annotations__2__bbox=[1, 1, 0, 5]), ValueError,
     r'annotations\[2\].bbox \[1.0, 1.0, 0.0, 5.0\] \(x, y, w, h\) '
     'has no area'),
    (_broken(annotations__3__person_id=-2), ValueError,
     r'annotations\[3\].person_id is -2'),
    (_broken(annotations__4__bbox=[100, 100, 5, 5]), ValueError,
     r'lies outside its 80x60 image'),
    (dict(images=[]), KeyError, "has no 'annotations'"),
])
def test_bad_files_are_refused(tmp_path, content, error, message):
    write_tree(tmp_path, train=content)
    with pytest.raises(error, match=message):
        build(tmp_path, 'train')


@pytest.mark.parametrize(
    'content,error,message',
    [
        # JSON's NaN and Infinity would reach mmcv's RoIAlign
        (_broken(annotations__0__bbox=[float('nan'), 2, 10, 20]), ValueError,
         r'train.json: annotations\[0\].bbox \[nan, 2.0, 10.0, 20.0\] '
         r'\(x, y, w, h\) is not finite'),
        (_broken(annotations__2__bbox=[30, 5, float('inf'), 30]), ValueError,
         r'annotations\[2\].bbox .* is not finite'),
        (_broken(annotations__1__bbox=['5', '5', '10', '30']), ValueError,
         r"annotations\[1\].bbox must be \[x, y, w, h\], four numbers, got "
         r"\['5'"),
        (_broken(annotations__1__bbox=[True, 5, 10, 30]), ValueError,
         r'annotations\[1\].bbox must be .* four numbers'),
        (_broken(annotations__1__person_id=True), TypeError,
         r"train.json: annotations\[1\]: 'person_id' must be int, got True"),
        (_broken(images__0__width='eighty'), TypeError,
         r"train.json: images\[0\]: 'width' must be int, got 'eighty'"),
        (_broken(images__0__height='60'), TypeError,
         r"train.json: images\[0\]: 'height' must be int, got '60'"),
        (_broken(images__0__width=0), ValueError,
         r'train.json: images\[0\].width is 0; expected an integer >= 1'),
        (_broken(images__0__cam_id=True), TypeError,
         r"images\[0\]: 'cam_id' must be int"),
        ({
            **TRAIN, 'queries': {}
        }, TypeError, r"train.json: 'queries' must be list"),
    ])
def test_bad_values_are_refused(tmp_path, content, error, message):
    write_tree(tmp_path, train=content)
    with pytest.raises(error, match=message):
        build(tmp_path, 'train')


def test_declared_sizes_are_checked_against_the_images(tmp_path):
    # a.jpg is 80 x 60: declared 100 wide, its boxes were not clipped to it
    write_tree(tmp_path, train=_broken(images__0__width=100))
    with pytest.raises(
            ValueError,
            match=r'(?s)train.json: 1 of 2 images .*a.jpg is 80x60 as '
            r'loaded .* but declared 100x60'):
        build(tmp_path, 'train')
    # every bad image in one error: a missing one, a corrupt one
    write_tree(
        tmp_path,
        test=_broken(TEST, images__0__width=81, images__0__height=60))
    (tmp_path / 'images' / 'd.jpg').write_bytes(b'\xff\xd8 truncated')
    with pytest.raises(ValueError) as error:
        build(tmp_path, 'gallery')
    message = str(error.value)
    assert '2 of 2 images' in message
    assert 'c.jpg is 80x60 as loaded' in message
    assert 'cannot read image' in message and 'd.jpg' in message
    # the query split checks the images of its queries
    with pytest.raises(ValueError, match='1 of 1 images'):
        build(tmp_path, 'query')
    (tmp_path / 'images' / 'sub' / 'b.jpg').unlink()
    with pytest.raises(ValueError, match=r'image not found: .*sub/b.jpg'):
        build(tmp_path, 'train')


def test_missing_files_and_queries(tmp_path):
    write_tree(tmp_path, test={**TEST, 'queries': []})
    with pytest.raises(ValueError, match='has no "queries"'):
        build(tmp_path, 'query')
    with pytest.raises(FileNotFoundError, match='annotation file not found'):
        build(tmp_path, 'train', ann_file='annotations/nope.json')
    (tmp_path / 'annotations' / 'bad.json').write_text('{"images": [')
    with pytest.raises(ValueError, match='bad.json is not valid JSON'):
        build(tmp_path, 'train', ann_file='annotations/bad.json')
    bad_query = copy.deepcopy(TEST)
    bad_query['queries'][0]['person_id'] = -1
    write_tree(tmp_path, test=bad_query)
    with pytest.raises(ValueError, match='a query needs its identity'):
        build(tmp_path, 'query')
