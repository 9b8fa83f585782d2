# Copyright (c) mmps contributors. All rights reserved.
from .appearance_clip import AppearanceClip, write_appearance_clip
from .search_visualizer import PersonSearchVisualizer
from .worst_queries import draw_worst_queries

__all__ = [
    'AppearanceClip', 'PersonSearchVisualizer', 'draw_worst_queries',
    'write_appearance_clip'
]
