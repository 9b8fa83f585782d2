# Copyright (c) mmps contributors. All rights reserved.
"""Put a checkpoint's weights into a model, every one or an error.

mmengine loads weights with ``strict=False`` and only logs what did not fit:
a checkpoint of another model, or with renamed keys, then runs on random
weights. Here a key missing from the checkpoint, a key the model does not
have, or a tensor of another shape is an error that names them, unless a
partial load is asked for (``strict=False``, e.g. to fine-tune), which loads
what fits and warns about the rest. The model's buffers count like its
parameters (the OIM loss's ``lookup_table``, ``queue`` and ``queue_ptr``);
only BatchNorm's ``num_batches_tracked`` may be missing, as in mmengine (a
counter that frozen or evaluated BatchNorm does not use).
"""
import logging
import re
from collections import OrderedDict
from typing import List, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from .checkpoint import load_checkpoint_file

#: mmengine's default: weights saved from a wrapped (DDP) model.
DEFAULT_REVISE_KEYS = ((r'^module\.', ''), )
#: Names listed per kind of mismatch in a message; the count says the rest.
MAX_LISTED_KEYS = 10


def _listing(title: str, items: List[str]) -> str:
    """``title (n): a, b, ...`` with at most :data:`MAX_LISTED_KEYS`."""
    shown = ', '.join(items[:MAX_LISTED_KEYS])
    more = len(items) - MAX_LISTED_KEYS
    return f'  {title} ({len(items)}): {shown}' + (f', ... ({more} more)'
                                                   if more > 0 else '')


def _state_dict_of(checkpoint: dict, revise_keys: Sequence[Tuple[str, str]],
                   source: str) -> OrderedDict:
    """The checkpoint's state dict, its keys revised."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict):
        raise ValueError(f'the state_dict of {source} is a '
                         f'{type(state_dict).__name__}, not a dict')
    metadata = getattr(state_dict, '_metadata', None)
    for pattern, replacement in revise_keys:
        state_dict = OrderedDict((re.sub(pattern, replacement, key), value)
                                 for key, value in state_dict.items())
    if metadata is not None:  # versions of modules, e.g. old BatchNorm
        state_dict._metadata = metadata
    return state_dict


def load_model_state(model: torch.nn.Module,
                     checkpoint: dict,
                     strict: bool = True,
                     revise_keys: Sequence[Tuple[str,
                                                 str]] = DEFAULT_REVISE_KEYS,
                     source: str = 'the checkpoint') -> None:
    """Load a checkpoint's weights into a model, checking that they fit.

    Args:
        model (torch.nn.Module): The model (a wrapper's module is used).
        checkpoint (dict): An mmengine checkpoint (``state_dict`` and more)
            or a bare state dict.
        strict (bool): Refuse a checkpoint that does not fit exactly. With
            False, load the tensors that fit and warn about the others.
            Defaults to True.
        revise_keys (Sequence[tuple[str, str]]): ``(pattern, replacement)``
            regular expressions applied to the checkpoint's keys first.
            Defaults to removing a leading ``module.``.
        source (str): How messages name the checkpoint (its file).

    Raises:
        RuntimeError: If ``strict`` and a key is missing, unexpected or of
            another shape; the message names them.
    """
    if is_model_wrapper(model):
        model = model.module
    state_dict = _state_dict_of(checkpoint, revise_keys, source)
    expected = model.state_dict()
    missing = [
        key for key in expected
        if key not in state_dict and not key.endswith('num_batches_tracked')
    ]
    unexpected = [key for key in state_dict if key not in expected]
    reshaped = [
        key for key, value in state_dict.items() if key in expected
        and getattr(value, 'shape', None) != expected[key].shape
    ]
    if missing or unexpected or reshaped:
        lines = [f'{source} does not fit the {type(model).__name__} model:']
        if missing:
            lines.append(_listing('missing from the checkpoint', missing))
        if unexpected:
            lines.append(_listing('not in the model', unexpected))
        if reshaped:
            lines.append(
                _listing('of another shape', [
                    f'{key} {tuple(getattr(state_dict[key], "shape", ()))} '
                    f'(model {tuple(expected[key].shape)})' for key in reshaped
                ]))
        if strict:
            lines.append('Is it a checkpoint of this config? To load only '
                         'the weights that fit (e.g. to fine-tune), set '
                         'allow_partial_load = True in the training config.')
            raise RuntimeError('\n'.join(lines))
        lines.append('Partial load: the weights above keep their '
                     'initialisation.')
        print_log('\n'.join(lines), logger='current', level=logging.WARNING)
        for key in reshaped:
            del state_dict[key]
    model.load_state_dict(state_dict, strict=False)


def load_model_checkpoint(
        model: torch.nn.Module,
        filename: str,
        map_location: Union[str, torch.device, None] = 'cpu',
        strict: bool = True,
        revise_keys: Sequence[Tuple[str, str]] = DEFAULT_REVISE_KEYS) -> dict:
    """Read a checkpoint safely and load its weights into a model.

    :func:`~mmps.utils.load_checkpoint_file` then :func:`load_model_state`:
    the file loads under ``torch.load(weights_only=True)`` and its weights
    must fit the model.

    Args:
        model (torch.nn.Module): The model.
        filename (str): The checkpoint (a path or URI).
        map_location (str | torch.device, optional): As in ``torch.load``.
            Defaults to ``'cpu'``.
        strict (bool): Refuse a checkpoint that does not fit exactly.
            Defaults to True.
        revise_keys (Sequence[tuple[str, str]]): Key rewrites, as in
            :func:`load_model_state`.

    Returns:
        dict: The whole checkpoint.
    """
    checkpoint = load_checkpoint_file(filename, map_location)
    load_model_state(model, checkpoint, strict, revise_keys,
                     f'the checkpoint {filename}')
    print_log(f'loaded the weights of {filename}', logger='current')
    return checkpoint
