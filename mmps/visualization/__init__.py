# Copyright (c) mmps contributors. All rights reserved.
from .search_visualizer import PersonSearchVisualizer
from .worst_queries import draw_worst_queries

__all__ = ['PersonSearchVisualizer', 'draw_worst_queries']
