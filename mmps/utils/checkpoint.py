# Copyright (c) mmps contributors. All rights reserved.
"""Read checkpoint files under ``torch.load(weights_only=True)``.

``weights_only`` unpickles only tensors, containers and allow-listed
globals, so a crafted file cannot run code. mmengine's checkpoints also hold
numpy arrays and scalars (message hub, metainfo) and its ``HistoryBuffer``;
:func:`checkpoint_globals` allow-lists those and nothing else, for the time
of one load (:func:`allowed_checkpoint_globals`); nothing is changed at
import.

Two globals of mmengine's checkpoints are callables that a pickle calls with
arguments of its choosing, and are replaced by narrow stand-ins:

- ``getattr``: ``HistoryBuffer`` pickles its statistics methods (``min``,
  ``max``, ``current``, ``mean``) as ``getattr(HistoryBuffer, name)``. The
  real ``getattr`` would reach any attribute of any allowed object; the
  stand-in returns those four methods of ``HistoryBuffer`` and refuses the
  rest.
- ``bytes``: pickle (protocol 2) writes the empty data of an empty numpy
  array as ``bytes()``; the stand-in makes empty bytes only.
"""
import collections
import contextlib
import os.path as osp
import pickle
import zipfile
from typing import Iterator, List, Union

import numpy as np
import torch
from mmengine.fileio import get_local_path

#: The statistics methods that ``HistoryBuffer`` pickles by name.
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')

#: How to convert a trusted file that mmps refuses; ``{src}`` is the file.
CONVERSION_RECIPE = (
    'python -c "import torch; c = torch.load(\'{src}\', map_location=\'cpu\', '
    'weights_only=False); torch.save(dict(state_dict=c.get(\'state_dict\', '
    'c)), \'{dst}\')"')


def _history_buffer_statistic(owner: type, name: str):
    """``getattr`` as mmengine's ``HistoryBuffer`` pickles it, and no more.

    Args:
        owner (type): Must be ``HistoryBuffer``.
        name (str): One of :data:`HISTORY_BUFFER_STATISTICS`.

    Returns:
        function: The statistics method.

    Raises:
        pickle.UnpicklingError: For any other object or name.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    if owner is not HistoryBuffer or name not in HISTORY_BUFFER_STATISTICS:
        raise pickle.UnpicklingError(
            f'it asks for getattr({owner!r}, {name!r}); a checkpoint may only '
            'name the statistics methods of HistoryBuffer '
            f'({", ".join(HISTORY_BUFFER_STATISTICS)})')
    return getattr(HistoryBuffer, name)


def _empty_bytes(*args) -> bytes:
    """``bytes()`` as pickle writes empty bytes, and no more.

    Raises:
        pickle.UnpicklingError: If called with arguments.
    """
    if args:
        raise pickle.UnpicklingError(
            f'it asks for bytes{args!r}; a checkpoint may only make empty '
            'bytes this way')
    return b''


def _multiarray():
    """numpy's ``multiarray`` module (``numpy._core`` since numpy 2)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    return multiarray


def checkpoint_globals() -> List:
    """The globals that mmengine and mmps checkpoints may hold.

    Returns:
        list: Classes and functions, and ``(function, name)`` pairs: numpy
        functions under their numpy 1 names, and the stand-ins for
        ``getattr`` and ``bytes`` under the built-ins' names.
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
    safe += [(_history_buffer_statistic, 'builtins.getattr'),
             (_empty_bytes, 'builtins.bytes')]
    return safe


@contextlib.contextmanager
def allowed_checkpoint_globals() -> Iterator[None]:
    """Allow :func:`checkpoint_globals` in ``torch.load`` for a while.

    Only the globals that were not allowed already are added, and only they
    are removed again on exit. Without ``torch.serialization.safe_globals``
    (torch < 2.5) nothing is added: numpy arrays and ``HistoryBuffer`` are
    then refused.
    """
    safe_globals = getattr(torch.serialization, 'safe_globals', None)
    if safe_globals is None:
        yield
        return
    allowed = set(torch.serialization.get_safe_globals())
    with safe_globals([g for g in checkpoint_globals() if g not in allowed]):
        yield


def _refusal_message(filename: str, local_path: str,
                     error: pickle.UnpicklingError) -> str:
    """Which globals of a checkpoint were refused, and how to convert it."""
    try:
        with allowed_checkpoint_globals():
            refused = torch.serialization.get_unsafe_globals_in_checkpoint(
                local_path)
    except (AttributeError, ValueError, RuntimeError):  # torch < 2.5, legacy
        refused = []
    if refused:
        what = (f'it holds {", ".join(sorted(refused))}, which mmps does not '
                'unpickle')
    else:
        what = str(error).split('WeightsUnpickler error:')[-1].split(
            '\n\nCheck the documentation')[0].strip()
    if not hasattr(torch.serialization, 'safe_globals'):
        what += (f' (torch {torch.__version__} has no allow-list for numpy '
                 'arrays and HistoryBuffer; torch >= 2.5 has)')
    stem, ext = osp.splitext(filename)
    recipe = CONVERSION_RECIPE.format(
        src=filename, dst=f'{stem}_weights{ext or ".pth"}')
    return (f'refused to load the checkpoint {filename}: {what}. Checkpoints '
            'load with torch.load(weights_only=True): tensors, numpy arrays '
            'and mmengine\'s HistoryBuffer only, since unpickling anything '
            'else can run code. If you trust the file, keep its weights '
            f'only, once:\n  {recipe}')


def load_checkpoint_file(
        filename: str,
        map_location: Union[str, torch.device, None] = 'cpu') -> dict:
    """Read a checkpoint without running code from it.

    Args:
        filename (str): A local path or a URI mmengine's file backends read
            (``http://``, ``s3://``, ...).
        map_location (str | torch.device, optional): Where tensors go, as in
            ``torch.load``. Defaults to ``'cpu'``.

    Returns:
        dict: The checkpoint (an mmengine checkpoint with ``state_dict``,
        ``meta``, ..., or a bare state dict).

    Raises:
        FileNotFoundError: If a local file does not exist.
        pickle.UnpicklingError: If the file holds a global outside
            :func:`checkpoint_globals`; the message names it and gives a
            one-line conversion for a trusted file.
        ValueError: If the file is not a ``torch.save`` zip archive (e.g.
            truncated) or does not hold a dict.
    """
    filename = osp.expanduser(str(filename))
    if '://' not in filename and not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    with get_local_path(filename) as local_path:
        try:
            with allowed_checkpoint_globals():
                checkpoint = torch.load(
                    local_path, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as error:
            raise pickle.UnpicklingError(
                _refusal_message(filename, local_path, error)) from error
        except Exception as error:  # noqa: B902 a damaged file, named
            if zipfile.is_zipfile(local_path):
                raise
            raise ValueError(
                f'cannot read the checkpoint {filename}: it is not the zip '
                'archive that torch.save writes (an empty or truncated file, '
                f'or another kind of file): {type(error).__name__}: '
                f'{error}') from error
    if not isinstance(checkpoint, dict):
        raise ValueError(f'the checkpoint {filename} holds a '
                         f'{type(checkpoint).__name__}, not a dict of weights')
    return checkpoint
