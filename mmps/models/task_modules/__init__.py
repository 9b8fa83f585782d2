# Copyright (c) mmps contributors. All rights reserved.
from .prior_generators import *  # noqa: F401,F403
