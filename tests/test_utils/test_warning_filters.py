# Copyright (c) mmps contributors. All rights reserved.
import os
import subprocess
import sys
import warnings

from mmps.utils.warning_filters import (PKG_RESOURCES_WARNING,
                                        ignore_pkg_resources_warning)
from ..test_tools._scripts import REPO

MESSAGE = ('pkg_resources is deprecated as an API. See '
           'https://setuptools.pypa.io/en/latest/pkg_resources.html.')


def _shown(message, category, module):
    """Whether a warning from ``module`` is shown once the filter is on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ignore_pkg_resources_warning()
        warnings.warn_explicit(message, category, 'file.py', 1, module=module)
    return len(caught) == 1


def test_only_the_pkg_resources_warning_is_ignored():
    for module in ('mmengine.utils.package_utils', 'mim.utils.utils',
                   'importlib'):
        assert not _shown(MESSAGE, UserWarning, module)
    # another warning of the same module, the same message as another
    # category or from another module still show
    assert _shown('something else', UserWarning,
                  'mmengine.utils.package_utils')
    assert _shown(MESSAGE, DeprecationWarning, 'importlib')
    assert _shown(MESSAGE, UserWarning, 'my_package.module')
    assert _shown(MESSAGE, UserWarning, 'importlib_metadata')
    assert PKG_RESOURCES_WARNING['category'] is UserWarning


def test_an_entry_point_does_not_open_with_it():
    """The demo reads its ``mmdet::`` config (where mmengine imports
    pkg_resources), then stops at the missing checkpoint."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONWARNINGS'}
    done = subprocess.run([
        sys.executable, 'demo/search_demo.py', 'query.jpg', '--box', '0', '0',
        '10', '10', REPO, 'configs/oim/oim_r18-w32-c4_1xb4-16e_synthetic.py',
        'missing.pth'
    ],
                          cwd=REPO,
                          env=dict(env, PYTHONPATH=REPO),
                          capture_output=True,
                          text=True)
    assert 'checkpoint missing.pth does not exist' in done.stderr
    assert 'pkg_resources' not in done.stderr, done.stderr[-2000:]
