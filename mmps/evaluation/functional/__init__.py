# Copyright (c) mmps contributors. All rights reserved.
from .cbgm import (QueryContext, build_query_contexts, context_rescore,
                   seqnet_query_contexts)
from .detection import (average_precision, evaluate_detection,
                        mutual_best_matches)
from .search import (GalleryDetections, QueryGroundTruth, SearchResults,
                     iou_threshold, rank_queries)

__all__ = [
    'GalleryDetections', 'QueryContext', 'QueryGroundTruth', 'SearchResults',
    'average_precision', 'build_query_contexts', 'context_rescore',
    'evaluate_detection', 'iou_threshold', 'mutual_best_matches',
    'rank_queries', 'seqnet_query_contexts'
]
