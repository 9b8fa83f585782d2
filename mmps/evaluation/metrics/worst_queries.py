# Copyright (c) mmps contributors. All rights reserved.
"""The worst-queries report of a person search evaluation.

:class:`~mmps.evaluation.PersonSearchMetric` writes it with
``worst_queries_file``; :func:`mmps.visualization.draw_worst_queries` draws
it.
"""
import json
import os.path as osp
from typing import List

import numpy as np
from mmengine.utils import mkdir_or_exist

from ..functional import GalleryDetections, SearchResults
from .search_protocols import SearchSetting


def worst_queries(results: SearchResults, setting: SearchSetting,
                  gallery: List[dict], queries: List[dict],
                  detections: GalleryDetections, count: int) -> dict:
    """The ``count`` queries of lowest AP, each with its top matches.

    Queries without AP (no ground truth in their gallery) are left out;
    ties keep the query order.

    Args:
        results (SearchResults): The setting's search results, Q queries.
        setting (SearchSetting): The setting searched.
        gallery (list[dict]): Gallery records (``img_path``), in the order
            of ``detections.image_index``.
        queries (list[dict]): Query records (``img_path``, ``bboxes``
            (1, 4)), indexed as ``results``.
        detections (GalleryDetections): The ranked gallery detections.
        count (int): How many queries to report.

    Returns:
        dict: ``setting`` (its name) and ``queries``, worst first, each with
        ``query_index``, ``img_path``, ``bbox``, ``average_precision``,
        ``ground_truth`` (``img_path``, ``bbox`` of each appearance) and
        ``top`` (``img_path``, ``bbox``, ``score``, ``correct`` of each
        ranked detection).
    """
    valid = np.flatnonzero(~np.isnan(results.average_precision))
    worst = valid[np.argsort(results.average_precision[valid],
                             kind='stable')[:count]]
    entries = []
    gt = setting.ground_truth
    for q in worst:
        query = queries[q]
        gt_rows = np.flatnonzero(gt.query_index == q)
        top = [
            dict(
                img_path=gallery[detections.image_index[d]]['img_path'],
                bbox=detections.boxes[d].tolist(),
                score=float(score),
                correct=bool(correct))
            for d, score, correct in zip(results.top_detections[q], results.
                                         top_scores[q], results.top_correct[q])
            if d >= 0
        ]
        entries.append(
            dict(
                query_index=int(q),
                img_path=query['img_path'],
                bbox=query['bboxes'][0].tolist(),
                average_precision=float(results.average_precision[q]),
                ground_truth=[
                    dict(
                        img_path=gallery[gt.image_index[r]]['img_path'],
                        bbox=gt.boxes[r].tolist()) for r in gt_rows
                ],
                top=top))
    return dict(setting=setting.name, queries=entries)


def dump_worst_queries(path: str, results: SearchResults,
                       setting: SearchSetting, gallery: List[dict],
                       queries: List[dict], detections: GalleryDetections,
                       count: int) -> None:
    """Write :func:`worst_queries` to a JSON file at ``path``."""
    report = worst_queries(results, setting, gallery, queries, detections,
                           count)
    mkdir_or_exist(osp.dirname(osp.abspath(path)))
    with open(path, 'w') as f:
        json.dump(report, f, indent=1)
