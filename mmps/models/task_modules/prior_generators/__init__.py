# Copyright (c) mmps contributors. All rights reserved.
from .torchvision_anchor_generator import TorchvisionAnchorGenerator

__all__ = ['TorchvisionAnchorGenerator']
