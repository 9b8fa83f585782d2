# Copyright (c) mmps contributors. All rights reserved.
from mmps.registry import MODELS
from .person_search import PersonSearch


@MODELS.register_module()
class SeqNet(PersonSearch):
    """Implementation of `Sequential End-to-end Network for Efficient Person
    Search <https://arxiv.org/abs/2103.10148>`_, with
    :class:`SeqNetRoIHead`."""
