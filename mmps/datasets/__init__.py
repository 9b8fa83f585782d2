# Copyright (c) mmps contributors. All rights reserved.
from .base_person_search_dataset import BasePersonSearchDataset
from .cuhk_sysu import CUHKSYSUDataset
from .prw import PRWDataset
from .synthetic_datasets import SyntheticCUHKSYSUDataset, SyntheticPRWDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'BasePersonSearchDataset', 'CUHKSYSUDataset', 'PRWDataset',
    'SyntheticCUHKSYSUDataset', 'SyntheticPRWDataset'
]
