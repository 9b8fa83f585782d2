# Copyright (c) mmps contributors. All rights reserved.
from .resnext_layer import ResNeXtLayer

__all__ = ['ResNeXtLayer']
