# Copyright (c) mmps contributors. All rights reserved.
"""Which model computed an index: a hash of its weights."""
import hashlib

import torch


def model_fingerprint(model: torch.nn.Module) -> str:
    """A SHA-1 of the names, shapes and values of a model's state.

    Two models give the same fingerprint exactly when their weights and
    buffers are equal, so an index is only searched with the model that
    embedded it.
    """
    hasher = hashlib.sha1()
    for name, value in sorted(model.state_dict().items()):
        array = value.detach().cpu().contiguous().reshape(-1)
        hasher.update(f'{name}:{tuple(value.shape)}:{value.dtype};'.encode())
        hasher.update(array.view(torch.uint8).numpy().tobytes())
    return hasher.hexdigest()
