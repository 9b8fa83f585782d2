# Copyright (c) mmps contributors. All rights reserved.
from .oim_loss import UNLABELED_ID, OIMLoss, oim_logits

__all__ = ['UNLABELED_ID', 'OIMLoss', 'oim_logits']
