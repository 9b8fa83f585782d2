# Copyright (c) mmps contributors. All rights reserved.
from .resnext_layer import ResNeXtLayer
from .scaled_res_layer import ScaledResLayer

__all__ = ['ResNeXtLayer', 'ScaledResLayer']
