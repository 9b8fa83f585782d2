# Copyright (c) mmps contributors. All rights reserved.
import json

import mmcv
import numpy as np
import pytest

from mmps.registry import VISUALIZERS
from mmps.visualization import PersonSearchVisualizer, draw_worst_queries


def image(height, width, value):
    return np.full((height, width, 3), value, dtype=np.uint8)


@pytest.fixture
def visualizer():
    return PersonSearchVisualizer(
        name=f'test_{np.random.randint(1 << 30)}', panel_height=60, gap=4)


def test_registered_in_mmps_visualizers():
    assert VISUALIZERS.get('PersonSearchVisualizer') is PersonSearchVisualizer


def test_query_crop_beside_its_matches(visualizer):
    query = image(100, 80, 50)
    gallery = [image(120, 160, 100), image(30, 30, 150), image(60, 90, 200)]
    boxes = [[10, 10, 50, 100], [0, 0, 10, 10], [5, 5, 20, 40]]
    drawn = visualizer.draw_search(query, [10, 20, 40, 80], gallery, boxes,
                                   [0.9, 0.5, 0.1], [True, False, None])
    # crop 30 x 60 -> 30 x 60; matches 80, 60 and 90 wide at height 60
    widths = [30, 80, 60, 90]
    assert drawn.shape == (60, sum(widths) + 3 * 4, 3)
    assert drawn.dtype == np.uint8
    lefts = np.cumsum([0] + [w + 4 for w in widths[:-1]])
    frames = [
        visualizer.query_color, visualizer.correct_color,
        visualizer.wrong_color, visualizer.unknown_color
    ]
    for left, width, color in zip(lefts, widths, frames):
        # bottom-right corner of each panel: its frame
        assert tuple(drawn[-1, left + width - 1]) == color
    gaps = drawn[:, lefts[1] - 4:lefts[1]]
    assert (gaps == 255).all()


def test_bad_inputs(visualizer):
    with pytest.raises(ValueError, match='one of each per match'):
        visualizer.draw_search(
            image(10, 10, 0), [0, 0, 5, 5], [image(10, 10, 0)], [], [0.5])


def test_draw_worst_queries_writes_one_picture_each(tmp_path):
    paths = []
    for i in range(3):
        path = str(tmp_path / f'{i}.jpg')
        mmcv.imwrite(image(40, 50, 60 * i), path)
        paths.append(path)
    entry = dict(
        img_path=paths[0],
        bbox=[5, 5, 20, 35],
        average_precision=0.2,
        ground_truth=[],
        top=[
            dict(
                img_path=paths[1],
                bbox=[1, 1, 9, 30],
                score=0.8,
                correct=False),
            dict(
                img_path=paths[2],
                bbox=[2, 2, 10, 30],
                score=0.7,
                correct=True)
        ])
    worst = tmp_path / 'worst.json'
    worst.write_text(
        json.dumps(
            dict(
                setting='g50',
                queries=[
                    dict(entry, query_index=7),
                    dict(entry, query_index=2)
                ])))
    visualizer = PersonSearchVisualizer(name='worst_test', panel_height=40)
    files = draw_worst_queries(
        str(worst), str(tmp_path / 'out'), visualizer, top_k=1)
    assert [f.rsplit('/', 1)[1]
            for f in files] == ['000_query7.jpg', '001_query2.jpg']
    drawn = mmcv.imread(files[0])
    # query crop 15 x 30 -> 20 x 40, one 50 x 40 match, one gap of 8
    assert drawn.shape == (40, 20 + 8 + 50, 3)


def test_person_ids_in_their_colours(visualizer):
    canvas = image(80, 100, 0)
    drawn = visualizer.draw_person_ids(canvas,
                                       [[10, 10, 40, 70], [60, 10, 90, 70]],
                                       [3, -1])
    assert drawn.shape == (80, 100, 3)
    # the left edges of the boxes, below their labels
    assert tuple(drawn[60, 10]) == visualizer.identity_color(3)
    assert tuple(drawn[60, 60]) == (128, 128, 128)
    assert visualizer.identity_color(3) == visualizer.identity_color(3)
    assert visualizer.identity_color(3) != visualizer.identity_color(4)
