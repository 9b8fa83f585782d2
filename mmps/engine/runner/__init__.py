# Copyright (c) mmps contributors. All rights reserved.
from .safe_checkpoint_runner import SafeCheckpointRunner

__all__ = ['SafeCheckpointRunner']
