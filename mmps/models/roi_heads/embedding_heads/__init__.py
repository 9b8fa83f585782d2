# Copyright (c) mmps contributors. All rights reserved.
from .base_embedding_head import BACKGROUND_ID, BaseEmbeddingHead
from .embedding_head import EmbeddingHead
from .norm_aware_embedding_head import NormAwareEmbeddingHead, split_channels

__all__ = [
    'BACKGROUND_ID', 'BaseEmbeddingHead', 'EmbeddingHead',
    'NormAwareEmbeddingHead', 'split_channels'
]
