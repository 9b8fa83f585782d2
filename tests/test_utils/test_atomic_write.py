# Copyright (c) mmps contributors. All rights reserved.
import os

import pytest

from mmps.utils import atomic_write


def test_the_file_is_replaced_when_complete(tmp_path):
    path = tmp_path / 'last_checkpoint'
    path.write_text('old')
    with atomic_write(str(path)) as tmp:
        assert os.path.dirname(tmp) == str(tmp_path)
        with open(tmp, 'w') as f:
            f.write('new')
        # until the body ends, the file keeps its old content
        assert path.read_text() == 'old'
    assert path.read_text() == 'new'
    assert os.listdir(tmp_path) == ['last_checkpoint']


def test_an_error_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    path.write_text('old')
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(str(path)) as tmp:
            with open(tmp, 'w') as f:
                f.write('half')
            raise KeyboardInterrupt
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['epoch_1.pth']
