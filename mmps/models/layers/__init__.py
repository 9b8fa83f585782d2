# Copyright (c) mmps contributors. All rights reserved.
from .linear_bn import LinearBN

__all__ = ['LinearBN']
