# Copyright (c) mmps contributors. All rights reserved.
import os
import signal
import subprocess
import sys

import pytest

from mmps.utils import atomic_path, atomic_write


def test_replaces_the_file_when_complete(tmp_path):
    path = tmp_path / 'new' / 'file.bin'
    with atomic_write(str(path)) as f:
        f.write(b'first')
        assert not path.exists()
    assert path.read_bytes() == b'first'
    with atomic_write(str(path)) as f:
        f.write(b'second')
        assert path.read_bytes() == b'first'
    assert path.read_bytes() == b'second'
    assert os.listdir(path.parent) == ['file.bin']


def test_an_error_keeps_the_old_file(tmp_path):
    path = tmp_path / 'file.bin'
    path.write_bytes(b'old')
    with pytest.raises(RuntimeError, match='disk full'):
        with atomic_write(str(path)) as f:
            f.write(b'half')
            raise RuntimeError('disk full')
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['file.bin']


# loads the module alone: importing mmps (torch) would take most of the time
KILLED_WRITER = """
import importlib.util, os, signal, sys
spec = importlib.util.spec_from_file_location('atomic_write', sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
with module.atomic_write(sys.argv[2]) as f:
    f.write(b'half')
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(sys.platform == 'win32', reason='SIGKILL')
def test_a_killed_writer_leaves_the_old_file(tmp_path):
    path = tmp_path / 'file.bin'
    path.write_bytes(b'old')
    done = subprocess.run([
        sys.executable, '-c', KILLED_WRITER,
        sys.modules[atomic_write.__module__].__file__,
        str(path)
    ])
    assert done.returncode == -signal.SIGKILL
    assert path.read_bytes() == b'old'


def test_a_path_for_writers_that_take_one(tmp_path):
    path = tmp_path / 'last_checkpoint'
    path.write_text('old')
    with atomic_path(str(path)) as tmp:
        assert os.path.dirname(tmp) == str(tmp_path)
        with open(tmp, 'w') as f:
            f.write('new')
        # until the body ends, the file keeps its old content
        assert path.read_text() == 'old'
    assert path.read_text() == 'new'
    assert os.listdir(tmp_path) == ['last_checkpoint']
