# Copyright (c) mmps contributors. All rights reserved.
import json

import numpy as np

from mmps.evaluation.functional import (GalleryDetections, QueryGroundTruth,
                                        SearchResults)
from mmps.evaluation.metrics.search_protocols import SearchSetting
from mmps.evaluation.metrics.worst_queries import (dump_worst_queries,
                                                   worst_queries)


def _case():
    """Four queries over two gallery images and three detections."""
    detections = GalleryDetections(
        boxes=np.array([[0, 0, 1, 2], [1, 1, 3, 3], [2, 0, 4, 5]], np.float32),
        embeddings=np.eye(3, 2, dtype=np.float32),
        image_index=np.array([0, 0, 1]),
        num_images=2)
    results = SearchResults(
        average_precision=np.array([0.5, np.nan, 0.25, 0.5]),
        first_hit_rank=np.array([1, -1, 1, 0]),
        num_ground_truth=np.array([1, 0, 2, 1]),
        num_true_positives=np.array([1, 0, 1, 1]),
        top_detections=np.array([[2, 0], [-1, -1], [1, -1], [0, 2]]),
        top_scores=np.array([[0.9, 0.4], [0, 0], [0.7, 0], [0.8, 0.1]]),
        top_correct=np.array([[False, True], [False, False], [True, False],
                              [True, False]]))
    setting = SearchSetting(
        name='g2',
        galleries=[np.arange(2)] * 4,
        ground_truth=QueryGroundTruth(
            query_index=np.array([0, 2, 2, 3]),
            image_index=np.array([0, 0, 1, 0]),
            boxes=np.array(
                [[0, 0, 1, 2], [1, 1, 3, 3], [2, 0, 4, 5], [0, 0, 1, 2]],
                np.float32)))
    gallery = [dict(img_path='g0.jpg'), dict(img_path='g1.jpg')]
    queries = [
        dict(img_path=f'q{i}.jpg', bboxes=np.array([[i, 0, i + 1, 1.]]))
        for i in range(4)
    ]
    return results, setting, gallery, queries, detections


def test_the_lowest_aps_come_first_with_their_matches():
    report = worst_queries(*_case(), count=2)
    assert report['setting'] == 'g2'
    # query 1 has no AP; 2 (0.25) is worst, then 0 before 3 (both 0.5)
    assert [q['query_index'] for q in report['queries']] == [2, 0]
    worst = report['queries'][0]
    assert worst == dict(
        query_index=2,
        img_path='q2.jpg',
        bbox=[2, 0, 3, 1],
        average_precision=0.25,
        ground_truth=[
            dict(img_path='g0.jpg', bbox=[1, 1, 3, 3]),
            dict(img_path='g1.jpg', bbox=[2, 0, 4, 5])
        ],
        top=[
            dict(
                img_path='g0.jpg', bbox=[1, 1, 3, 3], score=0.7, correct=True)
        ])
    assert [(t['img_path'], t['correct'])
            for t in report['queries'][1]['top']] == [('g1.jpg', False),
                                                      ('g0.jpg', True)]


def test_the_report_is_written_as_json(tmp_path):
    path = tmp_path / 'sub' / 'worst.json'
    dump_worst_queries(str(path), *_case(), count=10)
    report = json.loads(path.read_text())
    assert [q['query_index'] for q in report['queries']] == [2, 0, 3]
    assert report == json.loads(json.dumps(worst_queries(*_case(), 10)))
