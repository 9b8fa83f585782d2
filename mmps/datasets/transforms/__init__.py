# Copyright (c) mmps contributors. All rights reserved.
from .formatting import PackPersonSearchInputs
from .loading import LoadPersonSearchAnnotations
from .torchvision_resize import TorchvisionResize, torchvision_resize_shape

__all__ = [
    'LoadPersonSearchAnnotations', 'PackPersonSearchInputs',
    'TorchvisionResize', 'torchvision_resize_shape'
]
