# Copyright (c) mmps contributors. All rights reserved.
"""The build_index benchmark run at a tiny size."""
import os
import os.path as osp
import re

from mmps.testing import get_tiny_synthetic_config
from ._scripts import REPO, run_script

SCRIPT = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_build_index.py')


def test_benchmark_build_index_prints_its_table(tmp_path):
    config = str(tmp_path / 'tiny.py')
    get_tiny_synthetic_config(str(tmp_path / 'unused')).dump(config)
    work = tmp_path / 'work'
    work.mkdir()
    out = run_script(SCRIPT, config, '--size', '320', '240', '--video-fps',
                     '10', '--seconds', '3', '--persons', '3', '--fps', '1',
                     '2', '--tmp-dir', str(work))
    assert 'video: 320x240, 10 fps, 30 frames (3 s), 3 persons' in out
    assert 'random weights (timing only)' in out
    for field in ('sampled', 'decode s', 'decode frames/s', 'build s',
                  'build sampled/s', 'build frames/s', 'detections',
                  'index MB', 'decode %', 'model %'):
        assert field in out
    number = r'(\d+\.\d+)'
    rows = re.findall(
        rf'^ +([\d.]+) +(\d+) +{number} +{number} +{number} +{number} '
        rf'+{number} +(\d+) +{number} +{number} +{number}$', out, re.M)
    # 30 frames at 10 fps: 1 a second samples frames 0, 10, 20; 2 a second
    # every 5th
    assert [(row[0], row[1]) for row in rows] == [('1', '3'), ('2', '6')], out
    for row in rows:
        seconds_and_rates = [float(value) for value in row[2:7]]
        assert min(seconds_and_rates) > 0, row
        # decoding alone is part of build_index's time
        decode_share, model_share = float(row[9]), float(row[10])
        assert 0 <= decode_share <= 100
        assert abs(decode_share + model_share - 100) <= 0.11
        assert int(row[7]) >= 0 and float(row[8]) > 0
    # the video and the indexes are removed
    assert os.listdir(work) == []
