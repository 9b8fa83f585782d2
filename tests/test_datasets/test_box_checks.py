# Copyright (c) mmps contributors. All rights reserved.
"""The box checks every dataset loader shares."""
import numpy as np
import pytest

from mmps.datasets.box_checks import check_boxes


def test_good_boxes_pass_and_xywh_is_converted():
    boxes = np.array([[1, 2, 11, 22], [0, 0, 0.5, 0.25]])
    np.testing.assert_array_equal(check_boxes(boxes, 'f'), boxes)
    # x, y, w, h -> x1, y1, x2, y2 by hand
    np.testing.assert_array_equal(
        check_boxes([[1, 2, 10, 20], [-3, 4, 1, 2]], 'f', layout='xywh'),
        [[1, 2, 11, 22], [-3, 4, -2, 6]])
    assert check_boxes(np.zeros((0, 4)), 'f').shape == (0, 4)


@pytest.mark.parametrize(
    'box,layout,problem',
    [
        ([np.nan, 2, 11, 22], 'xyxy', r'\[nan, 2.0, 11.0, 22.0\] '
         r'\(x1, y1, x2, y2\) is not finite'),
        ([1, 2, np.inf, 22], 'xyxy', 'is not finite'),
        ([1, 2, 1, 22], 'xyxy', r'has no area; expected finite numbers with '
         r'x1 < x2 and y1 < y2'),
        ([5, 2, 1, 22], 'xyxy', 'has no area'),
        ([1, 2, 10, 0], 'xywh', r'\(x, y, w, h\) has no area; expected finite '
         r'numbers with w > 0 and h > 0'),
        ([1, 2, -10, 5], 'xywh', 'has no area'),
        ([1, np.nan, 10, 5], 'xywh', 'is not finite'),
        # w > 0 that vanishes in x + w: the box the model would see is empty
        ([1e20, 2, 1, 5], 'xywh', 'has no area'),
    ])
def test_bad_boxes_are_named(box, layout, problem):
    boxes = np.array([[0, 0, 4, 4], box])
    with pytest.raises(ValueError, match=f'^ann.json: box 1 .*{problem}'):
        check_boxes(boxes, 'ann.json', layout=layout)


def test_bad_boxes_are_counted_and_named_by_the_caller():
    boxes = [[0, 0, 4, 4], [np.nan] * 4, [1, 1, 1, 1], [2, 2, 1, 1]]
    with pytest.raises(
            ValueError,
            match=r'f: annotations\[1\].bbox \[nan, nan, nan, nan\] .* '
            r'\(2 more bad boxes\)'):
        check_boxes(boxes, 'f', name_of='annotations[{}].bbox'.format)
    with pytest.raises(ValueError, match=r'of shape \(N, 4\), got \(4,\)'):
        check_boxes([1, 2, 3, 4], 'f')
