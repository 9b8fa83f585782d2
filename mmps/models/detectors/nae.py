# Copyright (c) mmps contributors. All rights reserved.
from mmps.registry import MODELS
from .person_search import PersonSearch


@MODELS.register_module()
class NAE(PersonSearch):
    """Implementation of `Norm-Aware Embedding for Efficient Person Search
    <https://arxiv.org/abs/2003.12186>`_, with :class:`NAERoIHead`."""
