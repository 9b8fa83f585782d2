# Copyright (c) mmps contributors. All rights reserved.
"""A plain (non-editable) install carries what mim needs."""
import glob
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def test_wheel_holds_the_mim_files(tmp_path):
    # build from a copy: bdist_wheel replaces the links of mmps/.mim (made
    # by an editable install) with copies
    source = tmp_path / 'source'
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns('.venv', '.git', '.mim', 'work_dirs',
                                      'data', 'build', '*.egg-info',
                                      '__pycache__'))
    done = subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-w',
        str(tmp_path),
        str(source)
    ],
                          capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel, ) = glob.glob(str(tmp_path / 'mmps-*.whl'))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ('mmps/.mim/tools/train.py', 'mmps/.mim/tools/test.py',
                     'mmps/.mim/tools/dist_train.sh', 'mmps/.mim/configs/oim/'
                     'oim_r18-w32-c4_1xb4-16e_synthetic.py',
                     'mmps/.mim/configs/_base_/models/oim_r50-caffe-c4.py',
                     'mmps/.mim/model-index.yml', 'mmps/registry.py'):
        assert required in names, required
    assert not any(name.startswith('tests/') for name in names)
