# Copyright (c) mmps contributors. All rights reserved.
from .embedding_head import BACKGROUND_ID, EmbeddingHead
from .person_search_roi_head import PersonSearchRoIHead
from .shared_heads import ResNeXtLayer, ScaledResLayer

__all__ = [
    'BACKGROUND_ID', 'EmbeddingHead', 'PersonSearchRoIHead', 'ResNeXtLayer',
    'ScaledResLayer'
]
