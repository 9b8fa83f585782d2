# Copyright (c) mmps contributors. All rights reserved.
from .atomic_write import atomic_write
from .checkpoint import allow_checkpoint_globals, checkpoint_globals
from .dist_utils import all_gather_cat
from .setup_env import fall_back_to_gloo, register_all_modules

__all__ = [
    'all_gather_cat', 'atomic_write', 'allow_checkpoint_globals',
    'checkpoint_globals', 'fall_back_to_gloo', 'register_all_modules'
]
