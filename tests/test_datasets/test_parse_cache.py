# Copyright (c) mmps contributors. All rights reserved.
import glob
import os
import os.path as osp
import zipfile

import numpy as np
import pytest
from scipy.io import savemat

from mmps.datasets import cuhk_sysu_format
from mmps.datasets.cuhk_sysu_format import (POOL_FILE, TRAIN_FILE,
                                            SearchProtocol, load_images,
                                            load_pool, load_protocol,
                                            load_train_appearances,
                                            parse_images_file,
                                            parse_protocol_file)
from mmps.datasets.parse_cache import CACHE_DIR_ENV, cache_dir_of
from .._fixtures import (CUHK_IMAGES, CUHK_POOL, CUHK_TESTS, CUHK_TRAIN,
                         _protocol_structs, write_cuhk_sysu)

#: The fixture's queries with a third gallery image for the first one.
LONGER_TESTS = [
    (CUHK_TESTS[0][0], CUHK_TESTS[0][1], CUHK_TESTS[0][2] + [('s4.jpg', None)])
] + CUHK_TESTS[1:]


@pytest.fixture
def protocol_file(tmp_path):
    root = write_cuhk_sysu(tmp_path / 'data')
    return str(root), osp.join(root, 'annotation/test/train_test/TestG50.mat')


def _cache_files():
    return glob.glob(osp.join(cache_dir_of(), '*.npz'))


def _assert_same(protocol, expected):
    """Equal arrays of equal dtypes (NaN where NaN)."""
    for name, array in expected.arrays().items():
        cached = getattr(protocol, name)
        assert cached.dtype == array.dtype, name
        np.testing.assert_array_equal(cached, array, err_msg=name)


class _ParseCount:
    """Counts the parses of protocol files."""

    def __init__(self, monkeypatch):
        self.count = 0
        monkeypatch.setattr(cuhk_sysu_format, 'parse_protocol_file',
                            self.parse)

    def parse(self, *args):
        self.count += 1
        return parse_protocol_file(*args)


def test_parsed_arrays(protocol_file):
    """The flat layout holds the fixture's galleries, by hand."""
    _, path = protocol_file
    protocol = parse_protocol_file(path, 'TestG50', 'test')
    assert protocol.query_names.tolist() == ['s4.jpg', 's6.jpg']
    assert protocol.image_names.tolist() == ['s5.jpg', 's6.jpg', 's4.jpg']
    assert protocol.gallery_counts.tolist() == [2, 2]
    assert protocol.gallery_images.tolist() == [0, 1, 2, 0]
    assert protocol.gallery_query.tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(protocol.gallery_raw_boxes,
                                  [[40, 2, 10, 20]] + [[np.nan] * 4] * 3)
    assert protocol.query_person_ids.tolist() == [10, 12]
    np.testing.assert_array_equal(protocol.query_boxes,
                                  [[3, 4, 14, 26], [25, 15, 41, 55]])


def test_cache_hit_equals_a_fresh_parse(protocol_file, monkeypatch):
    root, path = protocol_file
    parses = _ParseCount(monkeypatch)
    first = load_protocol(root, 50)
    assert parses.count == 1 and len(_cache_files()) == 1
    second = load_protocol(root, 50)
    assert parses.count == 1
    _assert_same(second, parse_protocol_file(path, 'TestG50', 'test'))
    _assert_same(second, first)
    # another file of the same root has its own cache file
    load_protocol(root, 100)
    assert parses.count == 2 and len(_cache_files()) == 2


def test_touch_invalidates(protocol_file, monkeypatch):
    root, path = protocol_file
    parses = _ParseCount(monkeypatch)
    load_protocol(root, 50)
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))
    load_protocol(root, 50)
    assert parses.count == 2
    load_protocol(root, 50)
    assert parses.count == 2


def test_size_change_invalidates(protocol_file, monkeypatch):
    """Another content of another size under the same modification time
    is read anew."""
    root, path = protocol_file
    parses = _ParseCount(monkeypatch)
    assert load_protocol(root, 50).gallery_counts.tolist() == [2, 2]
    stat = os.stat(path)
    savemat(path, {'TestG50': _protocol_structs(LONGER_TESTS)})
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(path).st_size != stat.st_size
    assert load_protocol(root, 50).gallery_counts.tolist() == [3, 2]
    assert parses.count == 2


@pytest.mark.parametrize('damage', ['garbage', 'truncated', 'layout'])
def test_damaged_cache_is_ignored_and_rewritten(protocol_file, monkeypatch,
                                                damage):
    root, path = protocol_file
    expected = load_protocol(root, 50)
    cache_file, = _cache_files()
    if damage == 'garbage':
        with open(cache_file, 'wb') as f:
            f.write(b'not a zip file')
    elif damage == 'truncated':
        with open(cache_file, 'rb') as f:
            content = f.read()
        with open(cache_file, 'wb') as f:
            f.write(content[:len(content) // 2])
    else:
        # the right source, but the gallery points past the image names
        with np.load(cache_file) as content:
            arrays = dict(content)
        arrays['gallery_images'] = arrays['gallery_images'] + 10
        np.savez(cache_file, **arrays)
    parses = _ParseCount(monkeypatch)
    _assert_same(load_protocol(root, 50), expected)
    assert parses.count == 1
    # rewritten: the next read is a hit
    _assert_same(load_protocol(root, 50), expected)
    assert parses.count == 1


def _record_unpickling():
    os.environ['MMPS_TEST_UNPICKLED'] = '1'
    return 'unpickled'


class _Trap:

    def __reduce__(self):
        return _record_unpickling, ()


def test_cache_holds_no_pickle_and_none_is_read(protocol_file, monkeypatch):
    root, path = protocol_file
    load_protocol(root, 50)
    cache_file, = _cache_files()
    with np.load(cache_file, allow_pickle=False) as content:
        assert all(content[key].dtype != object for key in content.files)
    # a cache file holding a pickle of the right source is never unpickled
    with np.load(cache_file) as content:
        arrays = dict(content)
    arrays['query_names'] = np.array([_Trap()], dtype=object)
    np.savez(cache_file, **arrays)
    with zipfile.ZipFile(cache_file) as archive:
        assert 'query_names.npy' in archive.namelist()
    monkeypatch.delenv('MMPS_TEST_UNPICKLED', raising=False)
    parses = _ParseCount(monkeypatch)
    _assert_same(
        load_protocol(root, 50), parse_protocol_file(path, 'TestG50', 'test'))
    assert parses.count == 1
    assert 'MMPS_TEST_UNPICKLED' not in os.environ


def test_cache_off_and_unwritable(protocol_file, monkeypatch, tmp_path):
    root, _ = protocol_file
    monkeypatch.setenv(CACHE_DIR_ENV, 'off')
    assert cache_dir_of() is None
    parses = _ParseCount(monkeypatch)
    load_protocol(root, 50)
    load_protocol(root, 50)
    assert parses.count == 2
    # a cache folder that cannot be made costs the parse only
    blocker = tmp_path / 'a-file'
    blocker.write_text('')
    monkeypatch.setenv(CACHE_DIR_ENV, str(blocker / 'cache'))
    assert isinstance(load_protocol(root, 50), SearchProtocol)
    assert parses.count == 3


def test_default_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_DIR_ENV)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    assert cache_dir_of() == str(tmp_path / 'mmps' / 'annotations')
    assert cache_dir_of('elsewhere') == 'elsewhere'


class _ImagesParseCount:
    """Counts the parses of ``Images.mat``."""

    def __init__(self, monkeypatch):
        self.count = 0
        monkeypatch.setattr(cuhk_sysu_format, 'parse_images_file', self.parse)

    def parse(self, *args):
        self.count += 1
        return parse_images_file(*args)


def _assert_same_images(images, expected):
    """Equal names and per-image boxes of equal dtypes."""
    assert images.names == expected.names
    for field in ('boxes', 'raw_boxes'):
        got, want = getattr(images, field), getattr(expected, field)
        assert len(got) == len(want), field
        for name, a, b in zip(expected.names, got, want):
            assert a.dtype == b.dtype and a.shape == b.shape, (field, name)
            np.testing.assert_array_equal(a, b, err_msg=f'{field} {name}')


def test_images_cache_hit_equals_a_fresh_parse(protocol_file, monkeypatch):
    root, _ = protocol_file
    path = osp.join(root, 'annotation/Images.mat')
    parses = _ImagesParseCount(monkeypatch)
    first = load_images(root)
    second = load_images(root)
    assert parses.count == 1 and len(_cache_files()) == 1
    _assert_same_images(second, parse_images_file(path))
    _assert_same_images(second, first)
    # by hand: the fixture's boxes without those of no area
    assert second.names == list(CUHK_IMAGES)
    for name, raw in zip(second.names, second.raw_boxes):
        kept = [b for b in CUHK_IMAGES[name] if b[2] > 0 and b[3] > 0]
        np.testing.assert_array_equal(raw, np.array(kept).reshape(-1, 4))
    np.testing.assert_array_equal(second.boxes[0],
                                  parse_images_file(path).boxes[0])


def test_images_change_invalidates(protocol_file, monkeypatch):
    """A rewritten Images.mat (a moved box, other modification time) is
    read anew, not from the cache."""
    root, _ = protocol_file
    path = osp.join(root, 'annotation/Images.mat')
    parses = _ImagesParseCount(monkeypatch)
    assert load_images(root).raw_boxes[2].tolist() == [[20, 10, 20, 45]]
    stat = os.stat(path)
    moved = dict(CUHK_IMAGES, **{'s3.jpg': [(21, 10, 20, 45)]})
    write_cuhk_sysu(root, images=moved)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))
    changed = load_images(root)
    assert changed.raw_boxes[2].tolist() == [[21, 10, 20, 45]]
    assert parses.count == 2
    _assert_same_images(load_images(root), parse_images_file(path))
    assert parses.count == 2


@pytest.mark.parametrize('which', ['pool', 'train'])
def test_pool_and_train_cache_hit_and_change(protocol_file, monkeypatch,
                                             which):
    """pool.mat and Train.mat: a cache hit equals a fresh parse (and the
    fixture, by hand); a rewritten file is parsed again."""
    root, _ = protocol_file
    parser = 'parse_pool_file' if which == 'pool' else 'parse_train_file'
    load = load_pool if which == 'pool' else load_train_appearances
    path = osp.join(root, POOL_FILE if which == 'pool' else TRAIN_FILE)
    parse = getattr(cuhk_sysu_format, parser)
    parses = []
    monkeypatch.setattr(cuhk_sysu_format, parser,
                        lambda *args: parses.append(1) or parse(*args))

    def same(got, want):
        if which == 'pool':
            assert got == want
            return
        assert got[:2] == want[:2] and got[2].dtype == want[2].dtype
        np.testing.assert_array_equal(got[2], want[2])

    first, second = load(root), load(root)
    assert len(parses) == 1
    same(second, parse(path))
    same(second, first)
    if which == 'pool':
        assert second == CUHK_POOL
    else:
        assert second[0] == list(CUHK_TRAIN) and second[1] == [
            name for scenes in CUHK_TRAIN.values() for name, _ in scenes
        ]
        np.testing.assert_array_equal(
            second[2], [[i, *box]
                        for i, scenes in enumerate(CUHK_TRAIN.values())
                        for _, box in scenes])
    stat = os.stat(path)
    if which == 'pool':
        write_cuhk_sysu(root, pool=CUHK_POOL[::-1])
    else:
        write_cuhk_sysu(root, train=dict(p1=CUHK_TRAIN['p1']))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))
    changed = load(root)
    assert len(parses) == 2
    same(changed, parse(path))
    if which == 'pool':
        assert changed == CUHK_POOL[::-1]
    else:
        assert changed[0] == ['p1']
    load(root)
    assert len(parses) == 2
