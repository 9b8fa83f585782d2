# Copyright (c) mmps contributors. All rights reserved.
from ._ranking import TIE_TOLERANCE, assert_top_k_matches, near_tie_rows
from ._utils import (TINY_SYNTHETIC_DATA, demo_person_search_inputs,
                     get_config_file, get_tiny_model_cfg,
                     get_tiny_synthetic_config)

__all__ = [
    'TIE_TOLERANCE', 'assert_top_k_matches', 'near_tie_rows',
    'TINY_SYNTHETIC_DATA', 'demo_person_search_inputs', 'get_config_file',
    'get_tiny_model_cfg', 'get_tiny_synthetic_config'
]
