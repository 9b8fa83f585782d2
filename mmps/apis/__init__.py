# Copyright (c) mmps contributors. All rights reserved.
from .appearances import (Appearance, CameraTimeline, appearance_record,
                          camera_timelines)
from .faiss_backend import FaissIVFBackend
from .fingerprint import model_fingerprint
from .frame_sources import FrameSources
from .gallery_index import GalleryIndex, SearchMatch
from .media import frame_key, split_frame_key
from .person_searcher import PersonSearcher
from .search_backends import ExactBackend, SearchBackend

__all__ = [
    'GalleryIndex', 'SearchMatch', 'PersonSearcher', 'model_fingerprint',
    'frame_key', 'split_frame_key', 'FrameSources', 'Appearance',
    'CameraTimeline', 'camera_timelines', 'appearance_record', 'SearchBackend',
    'ExactBackend', 'FaissIVFBackend'
]
