# Copyright (c) mmps contributors. All rights reserved.
"""Image sizes as loaded, from the headers, as every loader reads them."""
import os

import mmcv
import numpy as np
import pytest
from PIL import Image

from mmps.datasets import image_headers
from mmps.datasets.image_headers import (MAX_LISTED, read_image_size,
                                         read_image_sizes)
from mmps.datasets.parse_cache import CACHE_DIR_ENV
from .._fixtures import _image


def _rotated_jpeg(path, orientation, size=(100, 40)):
    """A JPEG stored ``size`` (width, height) with an EXIF orientation."""
    image = Image.new('RGB', size, (127, 127, 127))
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(path, exif=exif)


@pytest.mark.parametrize('orientation', [1, 3, 5, 6, 7, 8])
def test_image_size_is_the_size_as_loaded(tmp_path, orientation):
    path = str(tmp_path / 'photo.jpg')
    _rotated_jpeg(path, orientation)
    # mmcv's decoding (LoadImageFromFile) turns the image as EXIF says
    height, width = mmcv.imread(path).shape[:2]
    assert read_image_size(path) == (width, height)
    assert (width, height) == ((40, 100) if orientation >= 5 else (100, 40))


def test_every_bad_image_is_listed_at_once(tmp_path):
    for name in ('good.jpg', 'wrong_size.jpg', 'other_size.jpg'):
        _image(str(tmp_path / name))  # 80 x 60
    (tmp_path / 'corrupt.jpg').write_bytes(b'not an image')
    _rotated_jpeg(str(tmp_path / 'turned.jpg'), 6)  # 100 x 40 stored
    paths = [
        str(tmp_path / name)
        for name in ('good.jpg', 'wrong_size.jpg', 'missing.jpg',
                     'corrupt.jpg', 'turned.jpg', 'other_size.jpg')
    ]
    # declared: right, wrong, -, -, the stored (not the loaded) size, only
    # the height and right
    declared = np.array([[80, 60], [60, 80], [80, 60], [80, 60], [100, 40],
                         [-1, 60]])
    with pytest.raises(ValueError) as error:
        read_image_sizes(paths, 'ann.json', declared)
    message = str(error.value)
    assert message.startswith('ann.json: 4 of 6 images are missing, '
                              'unreadable or not of their declared size')
    assert 'wrong_size.jpg is 80x60 as loaded' in message
    assert 'but declared 60x80' in message
    assert f'image not found: {paths[2]}' in message
    assert f'cannot read image {paths[3]}' in message
    assert 'turned.jpg is 40x100 as loaded' in message
    assert 'but declared 100x40' in message
    assert 'good.jpg' not in message and 'other_size.jpg' not in message
    np.testing.assert_array_equal(
        read_image_sizes([paths[0], paths[5], paths[4]], 'ann.json'),
        [[80, 60], [80, 60], [40, 100]])


def test_a_declared_width_alone_is_checked(tmp_path):
    _image(str(tmp_path / 'a.jpg'))  # 80 x 60
    with pytest.raises(ValueError, match=r'a.jpg is 80x60 .* declared 81x\?'):
        read_image_sizes([str(tmp_path / 'a.jpg')], 'f', np.array([[81, -1]]))


def test_many_bad_images_are_counted(tmp_path):
    paths = [str(tmp_path / f'{i}.jpg') for i in range(MAX_LISTED + 3)]
    with pytest.raises(ValueError) as error:
        read_image_sizes(paths, 'ann.json')
    message = str(error.value)
    assert f'{MAX_LISTED + 3} of {MAX_LISTED + 3} images' in message
    assert message.count('image not found') == MAX_LISTED
    assert message.endswith('... and 3 more')


class _HeaderReads:
    """Counts the image headers read."""

    def __init__(self, monkeypatch):
        self.count = 0
        monkeypatch.setattr(image_headers, 'read_image_size', self.read)

    def read(self, path):
        self.count += 1
        return read_image_size(path)


def test_cached_sizes_equal_a_fresh_read(tmp_path, monkeypatch):
    """A second read of the same images stats them and reads no header;
    its sizes are those of the headers, the declared sizes still checked."""
    paths = [str(tmp_path / f'{i}.jpg') for i in range(3)]
    for i, path in enumerate(paths):
        _image(path, (80 + i, 60))
    _rotated_jpeg(str(tmp_path / 'turned.jpg'), 6)
    paths.append(str(tmp_path / 'turned.jpg'))
    reads = _HeaderReads(monkeypatch)
    expected = [[80, 60], [81, 60], [82, 60], [40, 100]]
    np.testing.assert_array_equal(read_image_sizes(paths, 'ann'), expected)
    assert reads.count == 4
    cached = read_image_sizes(paths, 'ann')
    assert reads.count == 4 and cached.dtype == np.int64
    np.testing.assert_array_equal(cached, expected)
    with pytest.raises(ValueError, match=r'1.jpg is 81x60 .* declared 80x60'):
        read_image_sizes(paths, 'ann',
                         np.array(expected) - [[0, 0], [1, 0], [0, 0], [0, 0]])
    assert reads.count == 4
    # another list (order) of the same images has its own cache entry
    np.testing.assert_array_equal(
        read_image_sizes(paths[::-1], 'ann'), expected[::-1])
    assert reads.count == 8
    monkeypatch.setenv(CACHE_DIR_ENV, 'off')
    np.testing.assert_array_equal(read_image_sizes(paths, 'ann'), expected)
    assert reads.count == 12


@pytest.mark.parametrize('change', ['mtime', 'size'])
def test_a_changed_image_is_read_again(tmp_path, monkeypatch, change):
    """An image rewritten with another size (and file size), or only
    touched, is read again; the others need not be."""
    paths = [str(tmp_path / f'{i}.jpg') for i in range(2)]
    for path in paths:
        _image(path)  # 80 x 60
    read_image_sizes(paths, 'ann')
    stat = os.stat(paths[1])
    if change == 'size':
        _image(paths[1], (500, 70))
        assert os.stat(paths[1]).st_size != stat.st_size
        # the same modification time: the file size tells
        os.utime(paths[1], ns=(stat.st_atime_ns, stat.st_mtime_ns))
    else:
        os.utime(paths[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))
    reads = _HeaderReads(monkeypatch)
    expected = [[80, 60], [500, 70] if change == 'size' else [80, 60]]
    np.testing.assert_array_equal(read_image_sizes(paths, 'ann'), expected)
    assert reads.count == 2
    read_image_sizes(paths, 'ann')
    assert reads.count == 2


def test_a_list_with_a_bad_image_is_not_cached(tmp_path, monkeypatch):
    paths = [str(tmp_path / 'good.jpg'), str(tmp_path / 'corrupt.jpg')]
    _image(paths[0])
    with open(paths[1], 'wb') as f:
        f.write(b'not an image')
    for _ in range(2):
        with pytest.raises(ValueError, match='cannot read image .*corrupt'):
            read_image_sizes(paths, 'ann')
    _image(paths[1], (30, 20))
    reads = _HeaderReads(monkeypatch)
    np.testing.assert_array_equal(
        read_image_sizes(paths, 'ann'), [[80, 60], [30, 20]])
    assert reads.count == 2
    os.remove(paths[1])
    with pytest.raises(ValueError, match='image not found: .*corrupt.jpg'):
        read_image_sizes(paths, 'ann')
