# Copyright (c) mmps contributors. All rights reserved.
from .atomic_write import atomic_path, atomic_write
from .checkpoint import (allowed_checkpoint_globals, checkpoint_globals,
                         load_checkpoint_file)
from .dist_utils import all_gather_cat
from .model_weights import (DEFAULT_REVISE_KEYS, load_model_checkpoint,
                            load_model_state)
from .seqnet_converter import convert_seqnet_state_dict, seqnet_state_dict
from .setup_env import fall_back_to_gloo, register_all_modules
from .topk import sorted_top_k
from .warning_filters import ignore_pkg_resources_warning

__all__ = [
    'all_gather_cat', 'allowed_checkpoint_globals', 'atomic_path',
    'atomic_write', 'checkpoint_globals', 'convert_seqnet_state_dict',
    'DEFAULT_REVISE_KEYS', 'fall_back_to_gloo', 'ignore_pkg_resources_warning',
    'load_checkpoint_file', 'load_model_checkpoint', 'load_model_state',
    'register_all_modules', 'seqnet_state_dict', 'sorted_top_k'
]
