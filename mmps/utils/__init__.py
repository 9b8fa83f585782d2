# Copyright (c) mmps contributors. All rights reserved.
from .atomic_write import atomic_write
from .checkpoint import allow_checkpoint_globals, checkpoint_globals
from .dist_utils import all_gather_cat
from .seqnet_converter import convert_seqnet_state_dict, seqnet_state_dict
from .setup_env import fall_back_to_gloo, register_all_modules

__all__ = [
    'all_gather_cat', 'allow_checkpoint_globals', 'atomic_write',
    'checkpoint_globals', 'convert_seqnet_state_dict', 'fall_back_to_gloo',
    'register_all_modules', 'seqnet_state_dict'
]
