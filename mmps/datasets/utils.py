# Copyright (c) mmps contributors. All rights reserved.
"""Kept for ``mmps/apis/person_searcher.py`` alone.

Remove it when that file imports
:func:`~mmps.datasets.box_checks.check_boxes` from its module. The helpers
that were here live in ``box_checks``, ``file_checks``, ``id_mapping``,
``image_headers`` and ``mat_io``.
"""
from .box_checks import check_boxes

__all__ = ['check_boxes']
