# Copyright (c) mmps contributors. All rights reserved.
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .num_person_ids_check_hook import NumPersonIdsCheckHook
from .random_state_hook import RandomStateHook

__all__ = ['AtomicCheckpointHook', 'NumPersonIdsCheckHook', 'RandomStateHook']
