# Copyright (c) mmps contributors. All rights reserved.
import random
from types import SimpleNamespace

import numpy as np
import torch

from mmps.engine.hooks import RandomStateHook


def draw():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_checkpoint_keeps_the_generators_and_resume_restores_them():
    hook = RandomStateHook()
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)
    expected = draw()
    draw()
    hook.after_load_checkpoint(SimpleNamespace(_resume=True), checkpoint)
    assert draw() == expected
    # load_from (no resume) leaves the generators alone
    following = draw()
    hook.after_load_checkpoint(SimpleNamespace(_resume=False), checkpoint)
    assert draw() != following


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def test_validation_leaves_the_generators_as_it_found_them():
    hook = RandomStateHook()
    seed_all(3)
    expected = draw()
    seed_all(3)
    hook.before_val(None)
    draw()  # validation draws, e.g. its loader's seed
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)
    hook.after_val(None)
    # training goes on as if no validation had run ...
    assert draw() == expected
    # ... and a checkpoint saved during validation holds that state too
    hook.after_load_checkpoint(SimpleNamespace(_resume=True), checkpoint)
    assert draw() == expected
