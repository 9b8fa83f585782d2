# Copyright (c) mmps contributors. All rights reserved.
from ._utils import (TINY_SYNTHETIC_DATA, demo_person_search_inputs,
                     get_config_file, get_tiny_model_cfg,
                     get_tiny_synthetic_config)

__all__ = [
    'TINY_SYNTHETIC_DATA', 'demo_person_search_inputs', 'get_config_file',
    'get_tiny_model_cfg', 'get_tiny_synthetic_config'
]
