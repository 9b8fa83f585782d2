# Copyright (c) mmps contributors. All rights reserved.
"""Image sizes as loaded, from the headers, as every loader reads them."""
import mmcv
import numpy as np
import pytest
from PIL import Image

from mmps.datasets.image_headers import (MAX_LISTED, read_image_size,
                                         read_image_sizes)
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
