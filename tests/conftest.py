# Copyright (c) mmps contributors. All rights reserved.
import pytest

from mmps.utils import register_all_modules


@pytest.fixture(autouse=True, scope='session')
def _register_mmps_modules():
    """Register mmps and mmdet modules and set the ``mmps`` scope once."""
    register_all_modules(init_default_scope=True)
