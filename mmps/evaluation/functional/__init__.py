# Copyright (c) mmps contributors. All rights reserved.
from .cbgm import (QueryContext, build_query_contexts, context_rescore,
                   seqnet_query_contexts)
from .detection import average_precision, evaluate_detection
from .search import (GalleryDetections, LabelledCandidates, QueryGroundTruth,
                     SearchResults, iou_threshold, label_candidates,
                     rank_queries)
from .threshold import (PrecisionRecallCurve, choose_threshold,
                        precision_recall_curve)

__all__ = [
    'GalleryDetections', 'LabelledCandidates', 'PrecisionRecallCurve',
    'QueryContext', 'QueryGroundTruth', 'SearchResults', 'average_precision',
    'build_query_contexts', 'choose_threshold', 'context_rescore',
    'evaluate_detection', 'iou_threshold', 'label_candidates',
    'precision_recall_curve', 'rank_queries', 'seqnet_query_contexts'
]
