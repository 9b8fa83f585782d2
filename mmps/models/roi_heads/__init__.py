# Copyright (c) mmps contributors. All rights reserved.
from .embedding_heads import (BACKGROUND_ID, BaseEmbeddingHead, EmbeddingHead,
                              MultiInputEmbeddingHead, NormAwareEmbeddingHead)
from .nae_roi_head import NAERoIHead
from .person_detections import filter_person_detections
from .person_search_roi_head import PersonSearchRoIHead
from .seqnet_roi_head import SeqNetRoIHead
from .shared_heads import ResNeXtLayer, ScaledResLayer

__all__ = [
    'BACKGROUND_ID', 'BaseEmbeddingHead', 'EmbeddingHead',
    'MultiInputEmbeddingHead', 'NAERoIHead', 'NormAwareEmbeddingHead',
    'PersonSearchRoIHead', 'ResNeXtLayer', 'ScaledResLayer', 'SeqNetRoIHead',
    'filter_person_detections'
]
