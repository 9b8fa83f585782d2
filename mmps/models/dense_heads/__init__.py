# Copyright (c) mmps contributors. All rights reserved.
from .torchvision_rpn_head import TorchvisionRPNHead

__all__ = ['TorchvisionRPNHead']
