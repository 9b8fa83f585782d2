# Copyright (c) mmps contributors. All rights reserved.
from .faiss_backend import FaissIVFBackend
from .gallery_index import GalleryIndex, SearchMatch, video_frame_key
from .person_searcher import (PersonSearcher, list_gallery_images,
                              model_fingerprint)
from .search_backends import ExactBackend, SearchBackend

__all__ = [
    'GalleryIndex', 'SearchMatch', 'PersonSearcher', 'list_gallery_images',
    'model_fingerprint', 'video_frame_key', 'SearchBackend', 'ExactBackend',
    'FaissIVFBackend'
]
