# Copyright (c) mmps contributors. All rights reserved.
import random

import numpy as np
import torch
from mmengine.hooks import Hook

from mmps.registry import HOOKS


def get_random_state() -> dict:
    """The states of Python's, numpy's and torch's (CPU, CUDA) generators."""
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict) -> None:
    """Restore generator states taken by :func:`get_random_state`."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Keep the random number generators in checkpoints, for exact resume.

    mmengine's checkpoints hold the model, optimizer and schedulers but not
    the states of Python's, numpy's and torch's generators, so a resumed
    run samples other RoIs and other flips than an uninterrupted one. This
    hook saves them with each checkpoint and restores them when training
    resumes (not when weights are only loaded with ``load_from``).

    Validation during training leaves the generators as it found them
    (it draws from them, e.g. for its data loader's seed), and checkpoints
    saved during validation hold the states from before it: the next epoch
    starts from the same state whether or not a validation ran in between,
    as in a run that was interrupted and resumed.

    Augmentations in data loader workers draw from the workers' own
    generators, which are seeded anew when the workers start: a resumed run
    repeats an uninterrupted one exactly with ``num_workers=0``.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._before_val = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the training's generator states in ``checkpoint['meta']``.

        During validation (mmengine saves the last checkpoint again there
        when a new best score is reached), the states from before the
        validation are stored: those the training continues with.
        """
        state = self._before_val if self._before_val is not None \
            else get_random_state()
        checkpoint.setdefault('meta', {})['random_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the generator states when the run resumes."""
        state = checkpoint.get('meta', {}).get('random_state')
        if state is None or not getattr(runner, '_resume', False):
            return
        set_random_state(state)

    def before_val(self, runner) -> None:
        """Remember the generator states of the training."""
        self._before_val = get_random_state()

    def after_val(self, runner) -> None:
        """Give the training its generator states back."""
        if self._before_val is not None:
            set_random_state(self._before_val)
            self._before_val = None
