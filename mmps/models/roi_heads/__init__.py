# Copyright (c) mmps contributors. All rights reserved.
from .embedding_heads import (BACKGROUND_ID, BaseEmbeddingHead, EmbeddingHead,
                              NormAwareEmbeddingHead)
from .person_detections import filter_person_detections
from .person_search_roi_head import PersonSearchRoIHead
from .shared_heads import ResNeXtLayer, ScaledResLayer

__all__ = [
    'BACKGROUND_ID', 'BaseEmbeddingHead', 'EmbeddingHead',
    'NormAwareEmbeddingHead', 'PersonSearchRoIHead', 'ResNeXtLayer',
    'ScaledResLayer', 'filter_person_detections'
]
