# Copyright (c) mmps contributors. All rights reserved.
"""Load mmengine checkpoints under ``torch.load(weights_only=True)``.

torch >= 2.6 unpickles checkpoints with ``weights_only=True`` by default:
only tensors, containers and allow-listed globals load. mmengine 0.10.7
calls ``torch.load`` without the argument, and its checkpoints hold numpy
arrays and scalars (message hub, metainfo) and its ``HistoryBuffer``.
Those globals, and only those, are allow-listed here, so ``load_from`` and
``--resume`` work while a pickle that would run code is still refused.

One more thing stands in the way: ``HistoryBuffer.__getstate__`` pickles its
class's statistics functions, which pickle (protocol 2) writes as
``getattr(HistoryBuffer, 'min')``. Allow-listing ``getattr`` would let a
checkpoint reach any attribute of any allowed object, so instead
:func:`pickle_history_buffers_without_functions` stops writing them: the
functions are class-level defaults that every buffer has anyway.
Checkpoints written before this (by plain mmengine) still need
``weights_only=False`` to load, from a source one trusts.
"""
import collections
from typing import List

import numpy as np
import torch


def _multiarray():
    """numpy's ``multiarray`` module (``numpy._core`` since numpy 2)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    return multiarray


def checkpoint_globals() -> List:
    """The globals that mmengine and mmps checkpoints hold.

    Returns:
        list: Classes and functions, and ``(function, name)`` pairs for the
        numpy functions that numpy 1 pickled under ``numpy.core``.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    multiarray = _multiarray()
    safe = [
        HistoryBuffer, collections.OrderedDict, collections.defaultdict,
        collections.Counter, np.ndarray, np.dtype, multiarray._reconstruct,
        multiarray.scalar
    ]
    # checkpoints written with numpy 1 name them numpy.core.multiarray.*
    safe += [(multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
             (multiarray.scalar, 'numpy.core.multiarray.scalar')]
    # dtype classes (numpy.dtypes.Float64DType, ...) and scalar types
    scalar_types = sorted(set(np.sctypeDict.values()), key=str)
    safe += [type(np.dtype(t)) for t in scalar_types]
    safe += scalar_types
    return safe


def allow_checkpoint_globals() -> None:
    """Allow-list :func:`checkpoint_globals` for ``torch.load``."""
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:  # torch < 2.4 loads everything anyway
        add_safe_globals(checkpoint_globals())


def _history_buffer_state(buffer) -> dict:
    """``HistoryBuffer`` state without the class's statistics functions."""
    state = dict(buffer.__dict__)
    state.pop('statistics_methods', None)
    return state


def pickle_history_buffers_without_functions() -> None:
    """Make mmengine's ``HistoryBuffer`` pickle without ``getattr``."""
    from mmengine.logging.history_buffer import HistoryBuffer
    HistoryBuffer.__getstate__ = _history_buffer_state
