# Copyright (c) mmps contributors. All rights reserved.
from .dist_utils import all_gather_cat
from .setup_env import register_all_modules

__all__ = ['all_gather_cat', 'register_all_modules']
