# Copyright (c) mmps contributors. All rights reserved.
from .person_ids import UNLABELED_ID

__all__ = ['UNLABELED_ID']
