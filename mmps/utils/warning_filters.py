# Copyright (c) mmps contributors. All rights reserved.
"""Quiet the one third-party warning every mmps command would open with."""
import warnings

#: setuptools' deprecation warning on ``import pkg_resources``: mmengine
#: (``utils/package_utils.py``, when a config inherits ``mmdet::``) and
#: openmim import and reload that module, so the warning points at them or
#: at ``importlib``. mmps pins ``setuptools<81``, where the module still
#: exists; the warning tells a user of mmps nothing they can act on.
PKG_RESOURCES_WARNING = dict(
    message='pkg_resources is deprecated as an API',
    category=UserWarning,
    module=r'(mmengine\.utils\.package_utils|mim\.utils\.utils|importlib)$')


def ignore_pkg_resources_warning() -> None:
    """Ignore setuptools' ``pkg_resources`` deprecation warning, only it.

    For mmps' command line tools and demos: call it before the first config
    is read. Other warnings, of the same modules included, still show.
    """
    warnings.filterwarnings('ignore', **PKG_RESOURCES_WARNING)
