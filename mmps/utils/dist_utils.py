# Copyright (c) mmps contributors. All rights reserved.
import torch
import torch.nn.functional as F
from mmengine import dist
from torch import Tensor


def all_gather_cat(tensor: Tensor) -> Tensor:
    """Concatenate a tensor from all ranks along its first dimension.

    Unlike ``torch.distributed.all_gather``, the tensors may have a different
    length on each rank: they are padded to the longest before the gather and
    trimmed after it. The result is the same on every rank, in rank order.
    Outside distributed training the input is returned unchanged.

    Args:
        tensor (Tensor): The local tensor, shape (N_rank, ...).

    Returns:
        Tensor: The tensors of all ranks, shape (sum of N_rank, ...).
    """
    if dist.get_world_size() == 1:
        return tensor
    local_size = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = [int(size) for size in dist.all_gather(local_size)]
    max_size = max(sizes)
    # F.pad pads dimensions from the last one; only the first one grows.
    padding = [0, 0] * (tensor.dim() - 1) + [0, max_size - tensor.shape[0]]
    padded = F.pad(tensor, padding)
    gathered = dist.all_gather(padded)
    return torch.cat([part[:size] for part, size in zip(gathered, sizes)],
                     dim=0)
