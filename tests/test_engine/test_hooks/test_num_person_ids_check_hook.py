# Copyright (c) mmps contributors. All rights reserved.
from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest
import torch.nn as nn

from mmps.engine.hooks import NumPersonIdsCheckHook
from mmps.models.losses import OIMLoss


def runner_with(num_person_ids_in_data, rows):
    model = nn.Module()
    model.loss_reid = OIMLoss(num_person_ids=rows, queue_size=4)
    dataset = SimpleNamespace(
        metainfo={} if num_person_ids_in_data is None else dict(
            num_person_ids=num_person_ids_in_data))
    return SimpleNamespace(
        model=model,
        train_dataloader=SimpleNamespace(dataset=dataset),
        logger=MagicMock())


def test_table_of_the_right_size_passes():
    NumPersonIdsCheckHook().before_train(runner_with(483, 483))


def test_table_of_another_size_is_refused():
    with pytest.raises(
            ValueError,
            match='loss_reid.num_person_ids is 482, '
            'but the training data .* has 483 identities'):
        NumPersonIdsCheckHook().before_train(runner_with(483, 482))


def test_data_without_the_count_warns():
    runner = runner_with(None, 10)
    NumPersonIdsCheckHook().before_train(runner)
    assert 'not checked' in runner.logger.warning.call_args[0][0]


def test_data_without_labeled_persons_is_refused():
    # not "set num_person_ids=0": OIMLoss refuses an empty table
    with pytest.raises(ValueError) as error:
        NumPersonIdsCheckHook().before_train(runner_with(0, 5))
    message = str(error.value)
    assert 'has no labeled person' in message
    assert 'person_id >= 0' in message
    assert 'num_person_ids=0' not in message
