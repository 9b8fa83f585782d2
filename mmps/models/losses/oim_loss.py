# Copyright (c) mmps contributors. All rights reserved.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmps.registry import MODELS
from mmps.structures import UNLABELED_ID
from mmps.utils import all_gather_cat


def oim_logits(features: Tensor, lookup_table: Tensor, queue: Tensor,
               scale: float) -> Tensor:
    """Scaled cosine similarities of features to the OIM memory.

    Args:
        features (Tensor): L2-normalised features, shape (N, D).
        lookup_table (Tensor): Labeled identity features, shape (L, D).
        queue (Tensor): Unlabeled person features, shape (Q, D).
        scale (float): The inverse temperature ``1 / tau``.

    Returns:
        Tensor: Logits, shape (N, L + Q). Columns ``0..L-1`` are the labeled
        identities, columns ``L..L+Q-1`` the queue entries.
    """
    # torch.cat copies the memory, so updating the buffers in place after
    # this call does not corrupt the tensors saved for the backward pass.
    memory = torch.cat([lookup_table, queue], dim=0)
    return features.mm(memory.t()) * scale


@MODELS.register_module()
class OIMLoss(nn.Module):
    """Online Instance Matching loss.

    From `Joint Detection and Identification Feature Learning for Person
    Search <https://arxiv.org/abs/1604.01850>`_ (Xiao et al., CVPR 2017).

    The loss keeps a lookup table of labeled identity features and a circular
    queue of unlabeled person features. A labeled feature ``x`` of identity
    ``t`` is classified among the table rows and queue entries by a softmax
    over the scaled cosine similarities; the loss is its cross-entropy. Its
    gradient is the paper's
    ``(1 / tau) * [(1 - p_t) v_t - sum_{j != t} p_j v_j - sum_k q_k u_k]``
    (negated), since the memory is not trained by back-propagation.

    In training mode each forward pass then updates the memory with the
    detached features of the batch (of all ranks under distributed training,
    so that every rank keeps the same memory):

    - table rows of the identities seen move towards their features. With
      ``table_update='sequential'`` (the paper's rule, as the Caffe code,
      NAE and SeqNet apply it) each labeled feature, in batch order, updates
      its row ``v <- normalize(m * v + (1 - m) * x)``, so after k features of
      one identity the old row keeps about ``m ** k`` of its weight; with
      ``'mean'`` the row moves once towards the mean feature of the
      identity in the batch, ``v <- normalize(m * v + (1 - m) * mean(x))``,
      keeping ``m`` of its weight;
    - unlabeled features enter the queue in order, overwriting the oldest.

    The table, the queue and the queue pointer are buffers, so checkpoints
    and resumed training carry them.

    Args:
        num_person_ids (int): Number of labeled identities ``L``: the rows of
            the lookup table.
        num_features (int): Feature dimension ``D``. Defaults to 256.
        queue_size (int): Length ``Q`` of the unlabeled queue.
            Defaults to 5000.
        momentum (float): Momentum ``m`` of the table update.
            Defaults to 0.5.
        scale (float): Inverse temperature ``1 / tau`` of the softmax.
            Defaults to 30.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        table_update (str): How the lookup table takes an identity seen
            several times in a batch: ``'sequential'`` (one momentum step
            per feature, in order, as the references do) or ``'mean'`` (one
            step towards the mean). Defaults to 'mean'.
    """

    #: Values of ``table_update``.
    TABLE_UPDATES = ('mean', 'sequential')

    def __init__(self,
                 num_person_ids: int,
                 num_features: int = 256,
                 queue_size: int = 5000,
                 momentum: float = 0.5,
                 scale: float = 30.0,
                 loss_weight: float = 1.0,
                 table_update: str = 'mean') -> None:
        super().__init__()
        if num_person_ids < 1:
            raise ValueError(
                f'num_person_ids must be at least 1, got {num_person_ids}')
        if queue_size < 1:
            raise ValueError(f'queue_size must be at least 1, got '
                             f'{queue_size}')
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f'momentum must be in [0, 1), got {momentum}')
        if table_update not in self.TABLE_UPDATES:
            raise ValueError(f'table_update must be one of '
                             f'{self.TABLE_UPDATES}, got {table_update!r}')
        self.table_update = table_update
        self.num_person_ids = num_person_ids
        self.num_features = num_features
        self.queue_size = queue_size
        self.momentum = momentum
        self.scale = scale
        self.loss_weight = loss_weight
        self.register_buffer('lookup_table',
                             torch.zeros(num_person_ids, num_features))
        self.register_buffer('queue', torch.zeros(queue_size, num_features))
        self.register_buffer('queue_ptr', torch.zeros((), dtype=torch.long))

    def forward(self, features: Tensor, person_ids: Tensor) -> Tensor:
        """Compute the OIM loss and, in training mode, update the memory.

        Args:
            features (Tensor): L2-normalised features of person RoIs,
                shape (N, D).
            person_ids (Tensor): Identity of each RoI, shape (N, ): ``0..L-1``
                index the lookup table, ``-1`` marks an unlabeled person.
                Background RoIs must be left out by the caller.

        Returns:
            Tensor: The scalar loss, averaged over the labeled RoIs; zero
            (with a gradient path) when there is none.
        """
        self._check_inputs(features, person_ids)
        labeled = person_ids >= 0
        if labeled.any():
            logits = oim_logits(features[labeled], self.lookup_table,
                                self.queue, self.scale)
            loss = F.cross_entropy(logits, person_ids[labeled])
        else:
            loss = features.sum() * 0.0
        if self.training:
            self.update_memory(features.detach(), person_ids)
        return loss * self.loss_weight

    def _check_inputs(self, features: Tensor, person_ids: Tensor) -> None:
        """Raise a clear error for inputs the memory cannot take."""
        if features.dim() != 2 or features.shape[1] != self.num_features:
            raise ValueError(
                f'OIMLoss expects features of shape (N, {self.num_features}),'
                f' got {tuple(features.shape)}')
        if person_ids.shape != features.shape[:1]:
            raise ValueError(f'OIMLoss expects one person id per feature, got '
                             f'{tuple(person_ids.shape)} ids for '
                             f'{features.shape[0]} features')
        if person_ids.numel() == 0:
            return
        max_id, min_id = int(person_ids.max()), int(person_ids.min())
        if max_id >= self.num_person_ids or min_id < UNLABELED_ID:
            raise ValueError(
                f'OIMLoss got person ids in [{min_id}, {max_id}], but its '
                f'lookup table has num_person_ids={self.num_person_ids} rows:'
                f' ids must be in [0, {self.num_person_ids - 1}] or '
                f'{UNLABELED_ID} (unlabeled). Set num_person_ids to the '
                f'number of training identities of the dataset.')

    @torch.no_grad()
    def update_memory(self, features: Tensor, person_ids: Tensor) -> None:
        """Update the lookup table and the queue with a batch of features.

        Under distributed training the features and ids of all ranks are
        gathered first, so every rank applies the same update.

        Args:
            features (Tensor): Detached L2-normalised features, shape (N, D).
            person_ids (Tensor): Identity of each feature, shape (N, ).
        """
        features = all_gather_cat(features.contiguous())
        person_ids = all_gather_cat(person_ids.contiguous())
        labeled = person_ids >= 0
        self._update_lookup_table(features[labeled], person_ids[labeled])
        self._enqueue(features[person_ids == UNLABELED_ID])

    def _update_lookup_table(self, features: Tensor,
                             person_ids: Tensor) -> None:
        """Move the rows of the identities seen towards their features.

        Args:
            features (Tensor): Labeled features, shape (N, D).
            person_ids (Tensor): Their identities, shape (N, ).
        """
        if person_ids.numel() == 0:
            return
        if self.table_update == 'sequential':
            self._update_lookup_table_in_order(features, person_ids)
            return
        unique_ids, inverse = torch.unique(person_ids, return_inverse=True)
        sums = features.new_zeros(len(unique_ids), features.shape[1])
        sums.index_add_(0, inverse, features)
        counts = torch.bincount(inverse, minlength=len(unique_ids))
        means = sums / counts.unsqueeze(1).to(features.dtype)
        rows = self.momentum * self.lookup_table[unique_ids] + \
            (1.0 - self.momentum) * means
        self.lookup_table[unique_ids] = F.normalize(rows, dim=1)

    def _update_lookup_table_in_order(self, features: Tensor,
                                      person_ids: Tensor) -> None:
        """One momentum step per feature, in batch order.

        Vectorised over identities: step r updates, at once, every identity
        with the r-th of its features, so there are as many steps as the
        most frequent identity has features.

        Args:
            features (Tensor): Labeled features, shape (N, D).
            person_ids (Tensor): Their identities, shape (N, ).
        """
        order = torch.sort(person_ids, stable=True).indices
        sorted_ids = person_ids[order]
        is_first = torch.ones_like(sorted_ids, dtype=torch.bool)
        is_first[1:] = sorted_ids[1:] != sorted_ids[:-1]
        first = torch.cummax(
            torch.where(is_first,
                        torch.arange(len(order), device=order.device),
                        torch.zeros_like(order)), 0).values
        # occurrence rank of each feature among its identity's features
        rank = torch.empty_like(order)
        rank[order] = torch.arange(len(order), device=order.device) - first
        for step in range(int(rank.max()) + 1):
            at_step = rank == step
            ids = person_ids[at_step]
            rows = self.momentum * self.lookup_table[ids] + \
                (1.0 - self.momentum) * features[at_step]
            self.lookup_table[ids] = F.normalize(rows, dim=1)

    def _enqueue(self, features: Tensor) -> None:
        """Write unlabeled features into the circular queue, oldest out.

        Args:
            features (Tensor): Unlabeled features, shape (N, D). When N is
                larger than the queue, only the last Q enter it.
        """
        num_new = features.shape[0]
        if num_new == 0:
            return
        if num_new > self.queue_size:
            # The first entries would be overwritten within this batch.
            skipped = num_new - self.queue_size
            features = features[skipped:]
            self.queue_ptr.add_(skipped).remainder_(self.queue_size)
            num_new = self.queue_size
        slots = (self.queue_ptr + torch.arange(
            num_new, device=features.device)) % self.queue_size
        self.queue[slots] = features
        self.queue_ptr.add_(num_new).remainder_(self.queue_size)

    def extra_repr(self) -> str:
        """Describe the memory sizes and hyper-parameters."""
        return (f'num_person_ids={self.num_person_ids}, '
                f'num_features={self.num_features}, '
                f'queue_size={self.queue_size}, momentum={self.momentum}, '
                f'scale={self.scale}, loss_weight={self.loss_weight}, '
                f'table_update={self.table_update!r}')
