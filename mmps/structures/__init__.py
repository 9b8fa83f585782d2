# Copyright (c) mmps contributors. All rights reserved.
from .box_iou import box_iou
from .person_ids import UNLABELED_ID

__all__ = ['UNLABELED_ID', 'box_iou']
