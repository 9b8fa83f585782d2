# Copyright (c) mmps contributors. All rights reserved.
from .base_embedding_head import BACKGROUND_ID, BaseEmbeddingHead
from .embedding_head import EmbeddingHead
from .multi_input_embedding_head import MultiInputEmbeddingHead, split_channels
from .norm_aware_embedding_head import NormAwareEmbeddingHead

__all__ = [
    'BACKGROUND_ID', 'BaseEmbeddingHead', 'EmbeddingHead',
    'MultiInputEmbeddingHead', 'NormAwareEmbeddingHead', 'split_channels'
]
