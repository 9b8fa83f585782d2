# Copyright (c) mmps contributors. All rights reserved.
import random

import numpy as np
import torch
from mmengine.hooks import Hook

from mmps.registry import HOOKS


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Keep the random number generators in checkpoints, for exact resume.

    mmengine's checkpoints hold the model, optimizer and schedulers but not
    the states of Python's, numpy's and torch's generators, so a resumed
    run samples other RoIs and other flips than an uninterrupted one. This
    hook saves them with each checkpoint and restores them when training
    resumes (not when weights are only loaded with ``load_from``).

    Augmentations in data loader workers draw from the workers' own
    generators, which are seeded anew when the workers start: a resumed run
    repeats an uninterrupted one exactly with ``num_workers=0``.
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the generator states in ``checkpoint['meta']``."""
        state = dict(
            python=random.getstate(),
            numpy=np.random.get_state(),
            torch=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint.setdefault('meta', {})['random_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the generator states when the run resumes."""
        state = checkpoint.get('meta', {}).get('random_state')
        if state is None or not getattr(runner, '_resume', False):
            return
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
