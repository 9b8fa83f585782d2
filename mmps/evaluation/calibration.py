# Copyright (c) mmps contributors. All rights reserved.
"""The labelled search candidates of a metric's protocol, for choosing the
``min_similarity`` of a search (``tools/analysis_tools/
calibrate_threshold.py``)."""
from typing import List, Optional, Tuple

import numpy as np

from .functional import LabelledCandidates, label_candidates
from .metrics.person_search_metric import PersonSearchMetric
from .metrics.search_protocols import SearchSetting, build_settings
from .metrics.search_records import (check_records, split_records,
                                     threshold_detections)


def search_candidates(
        records: List[dict],
        metric: PersonSearchMetric,
        score_thr: float,
        cws: bool,
        setting: Optional[str] = None
) -> Tuple[LabelledCandidates, SearchSetting]:
    """Every (query, gallery detection) pair of a protocol, labelled.

    The galleries and ground truth are those the metric scores (the
    CUHK-SYSU gallery sizes, PRW's all or other cameras, the validation
    split's every image but the query's own), and a pair is true exactly
    when the metric counts it as a true positive.

    Args:
        records (list[dict]): Predictions with ground truth, e.g. from
            :func:`mmps.evaluation.offline.merge_predictions`.
        metric (PersonSearchMetric): Gives the protocol and its settings;
            its ``dataset_meta`` must be set for CUHK-SYSU.
        score_thr (float): Detections scored below it are no candidates.
        cws (bool): Similarities times detection scores, as a search with
            Confidence Weighted Similarity ranks them.
        setting (str, optional): Name of the metric's setting, e.g.
            ``'g100'``, ``'all'``, ``'cross_camera'``. Defaults to None:
            the first, whose numbers the metric reports as its headline.

    Returns:
        tuple[LabelledCandidates, SearchSetting]: The candidates and the
        setting they come from.
    """
    gallery, queries = split_records(records)
    check_records(gallery, queries)
    detections, _ = threshold_detections(gallery, score_thr, cws)
    settings = build_settings(metric.protocol, gallery, queries,
                              metric.protocol_root(), metric.gallery_sizes,
                              metric.cross_camera)
    names = [s.name for s in settings]
    if setting is None:
        chosen = settings[0]
    elif setting in names:
        chosen = settings[names.index(setting)]
    else:
        raise ValueError(f'the {metric.protocol!r} protocol of the metric '
                         f'has the settings {names}, not {setting!r}')
    query_embeddings = np.concatenate([q['embeddings'][:1]
                                       for q in queries]).astype(np.float32)
    dense = None
    if chosen.is_large(detections.num_images):
        dense = query_embeddings @ detections.embeddings.T
    return label_candidates(query_embeddings, detections, chosen.galleries,
                            chosen.ground_truth, dense), chosen
