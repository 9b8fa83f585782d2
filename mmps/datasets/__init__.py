# Copyright (c) mmps contributors. All rights reserved.
from .base_person_search_dataset import BasePersonSearchDataset
from .coco_person_search import (CocoPersonSearchDataset,
                                 load_coco_person_search)
from .cuhk_sysu import CUHKSYSUDataset
from .gallery_query_dataset import GalleryQueryDataset, dataset_part_configs
from .prw import PRWDataset
from .synthetic_datasets import (SyntheticCocoPersonSearchDataset,
                                 SyntheticCUHKSYSUDataset, SyntheticPRWDataset)
from .transforms import *  # noqa: F401,F403

__all__ = [
    'SyntheticCocoPersonSearchDataset', 'CocoPersonSearchDataset',
    'load_coco_person_search', 'BasePersonSearchDataset', 'CUHKSYSUDataset',
    'PRWDataset', 'SyntheticCUHKSYSUDataset', 'SyntheticPRWDataset',
    'GalleryQueryDataset', 'dataset_part_configs'
]
