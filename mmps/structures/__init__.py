# Copyright (c) mmps contributors. All rights reserved.
from .box_iou import box_iou
from .embeddings import NORM_TOLERANCE
from .person_ids import UNLABELED_ID

__all__ = ['NORM_TOLERANCE', 'UNLABELED_ID', 'box_iou']
