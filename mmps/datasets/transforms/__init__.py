# Copyright (c) mmps contributors. All rights reserved.
from .formatting import PackPersonSearchInputs
from .loading import LoadPersonSearchAnnotations

__all__ = ['LoadPersonSearchAnnotations', 'PackPersonSearchInputs']
