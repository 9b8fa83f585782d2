# Copyright (c) mmps contributors. All rights reserved.
import pytest

from mmps.utils import register_all_modules


@pytest.fixture(autouse=True, scope='session')
def _register_mmps_modules():
    """Register mmps and mmdet modules and set the ``mmps`` scope once."""
    register_all_modules(init_default_scope=True)


@pytest.fixture(autouse=True)
def _annotation_cache(tmp_path_factory, monkeypatch):
    """A fresh annotation cache folder per test, never the user's; tools
    run as subprocesses inherit it."""
    from mmps.datasets.parse_cache import CACHE_DIR_ENV
    monkeypatch.setenv(CACHE_DIR_ENV,
                       str(tmp_path_factory.mktemp('annotation-cache')))
