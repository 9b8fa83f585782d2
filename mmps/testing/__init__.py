# Copyright (c) mmps contributors. All rights reserved.
from ._utils import (demo_person_search_inputs, get_config_file,
                     get_tiny_model_cfg)

__all__ = [
    'demo_person_search_inputs', 'get_config_file', 'get_tiny_model_cfg'
]
