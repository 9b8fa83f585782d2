# Copyright (c) mmps contributors. All rights reserved.
"""Score saved predictions against a dataset's ground truth."""
import os.path as osp
from typing import List

import numpy as np

from .predictions_io import PREDICTION_KEYS


def dataset_ground_truth(dataset) -> List[dict]:
    """The ground-truth part of the metric's records, from a dataset.

    Args:
        dataset: A test dataset (e.g. the ``ConcatDataset`` of the gallery
            and the queries); its pipeline is not run.

    Returns:
        list[dict]: Per entry: ``img_path``, ``is_query``, ``query_index``,
        ``cam_id``, ``gt_bboxes`` (n, 4) and ``gt_person_ids`` (n, ).
    """
    records = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        instances = info.get('instances', [])
        records.append(
            dict(
                img_path=info['img_path'],
                is_query=bool(info.get('is_query', False)),
                query_index=int(info.get('query_index', -1)),
                cam_id=int(info.get('cam_id', -1)),
                gt_bboxes=np.array([i['bbox'] for i in instances],
                                   dtype=np.float32).reshape(-1, 4),
                gt_person_ids=np.array([i['person_id'] for i in instances],
                                       dtype=np.int64)))
    return records


def merge_predictions(ground_truth: List[dict],
                      predictions: List[dict]) -> List[dict]:
    """Join predictions to the ground truth by image name and query index.

    Gallery predictions are matched by the file name of ``img_path`` (so
    predictions made elsewhere, with other folders, still match), queries
    by ``query_index``. Every gallery image and query of the dataset needs
    exactly one prediction. A record takes every field of its prediction
    but those of the ground truth, whose values (the image path, camera and
    boxes included) come from the dataset. The arrays are not changed:
    :func:`check_records` judges them.

    Args:
        ground_truth (list[dict]): From :func:`dataset_ground_truth`.
        predictions (list[dict]): Records with the keys of
            ``docs/predictions_format.md``, e.g. from
            :func:`mmps.evaluation.load_predictions`.

    Returns:
        list[dict]: Records for :class:`PersonSearchMetric`.
    """
    gallery, queries = {}, {}
    for number, pred in enumerate(predictions):
        missing = [k for k in PREDICTION_KEYS if k not in pred]
        if missing:
            raise KeyError(f'prediction {number} lacks {missing}')
        key = pred['query_index'] if pred['is_query'] else osp.basename(
            pred['img_path'])
        target = queries if pred['is_query'] else gallery
        if key in target:
            raise ValueError(
                f'two predictions for {"query" if pred["is_query"] else ""}'
                f' {key!r}')
        target[key] = pred
    expected_gallery = sum(not r['is_query'] for r in ground_truth)
    expected_queries = len(ground_truth) - expected_gallery
    if (len(gallery), len(queries)) != (expected_gallery, expected_queries):
        raise ValueError(
            f'the predictions hold {len(gallery)} gallery images and '
            f'{len(queries)} queries; the dataset has {expected_gallery} '
            f'gallery images and {expected_queries} queries')
    records = []
    for truth in ground_truth:
        key = truth['query_index'] if truth['is_query'] else osp.basename(
            truth['img_path'])
        source = queries if truth['is_query'] else gallery
        if key not in source:
            raise ValueError(f'no prediction for '
                             f'{"query" if truth["is_query"] else "image"} '
                             f'{key!r}')
        record = dict(source[key])
        record.update(truth)
        records.append(record)
    return records
