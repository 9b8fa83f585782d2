# Copyright (c) mmps contributors. All rights reserved.
from .gallery_index import GalleryIndex, SearchMatch
from .person_searcher import (PersonSearcher, list_gallery_images,
                              model_fingerprint)

__all__ = [
    'GalleryIndex', 'SearchMatch', 'PersonSearcher', 'list_gallery_images',
    'model_fingerprint'
]
