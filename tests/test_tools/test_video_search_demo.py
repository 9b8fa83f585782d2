# Copyright (c) mmps contributors. All rights reserved.
"""demo/video_search_demo.py on synthetic two-camera footage.

The network is replaced by the footage tests' oracle (see
``tests/test_apis/_footage.py``), in the process, so the demo runs with
``runpy``.
"""
import json
import os
import os.path as osp
import runpy
import sys

import cv2
import mmcv
import pytest
import torch

import mmps.apis.person_searcher
from mmps.apis import GalleryIndex, PersonSearcher
from ..test_apis._footage import (footage_config, merge_scripts,
                                  oracle_predict, person_box, render, walk,
                                  write_footage)
from ._scripts import REPO


class OracleSearcher(PersonSearcher):
    """A searcher whose model is the oracle."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.model.predict = oracle_predict(self.model)


def seconds(clock):
    """Seconds of an ``h:mm:ss.s`` time."""
    hours, minutes, secs = clock.split(':')
    return int(hours) * 3600 + int(minutes) * 60 + float(secs)


def run_demo(monkeypatch, *args):
    monkeypatch.setattr(mmps.apis.person_searcher, 'PersonSearcher',
                        OracleSearcher)
    monkeypatch.setattr(sys, 'argv', ['video_search_demo.py', *args])
    runpy.run_path(
        osp.join(REPO, 'demo', 'video_search_demo.py'), run_name='__main__')


@pytest.fixture
def footage(tmp_path):
    write_footage(
        str(tmp_path / 'cam1' / 'day.avi'),
        merge_scripts(
            walk(0, 5, 19, 20, 6), walk(0, 40, 54, 170, -6),
            walk(1, 0, 59, 250, 0)), 60)
    write_footage(
        str(tmp_path / 'cam2' / 'day.avi'),
        merge_scripts(walk(0, 10, 24, 40, 8), walk(2, 0, 29, 260, 0)), 30)
    query = str(tmp_path / 'query.png')
    cv2.imwrite(query, render([(0, 140)], background=(90, 120, 100)))
    config = str(tmp_path / 'footage.py')
    footage_config(str(tmp_path / 'unused')).dump(config)
    checkpoint = str(tmp_path / 'model.pth')
    torch.save(
        dict(state_dict=PersonSearcher(config).model.state_dict()), checkpoint)
    return tmp_path, query, config, checkpoint


def test_demo_prints_and_draws_the_appearances(footage, monkeypatch, capsys):
    root, query, config, checkpoint = footage
    box = [str(v) for v in person_box(140)]
    common = [
        '--min-similarity', '0.99', '--fps', '5', '--num-workers', '0',
        '--panel-height', '60', '--out',
        str(root / 'seen.jpg'), '--index',
        str(root / 'index')
    ]
    run_demo(monkeypatch, query, '--box', *box, str(root / 'cam1'),
             str(root / 'cam2'),
             config, checkpoint, *common, '--contact-sheets',
             str(root / 'sheets'), '--sheet-frames', '4', '--clips',
             str(root / 'clips'), '--clip-margin', '1', '--json',
             str(root / 'seen.json'))
    out = capsys.readouterr().out
    assert '3 appearances' in out
    rows = [
        line.split() for line in out.splitlines()
        if line[:3].strip() in ('1', '2', '3')
    ]
    assert sorted((row[1], row[2]) for row in rows) == [('cam1', '0:00:00.6'),
                                                        ('cam1', '0:00:04.0'),
                                                        ('cam2', '0:00:01.0')]
    # the JSON holds the same appearances, in the table's order
    with open(root / 'seen.json') as f:
        record = json.load(f)
    assert [(a['camera'], a['start'], a['end']) for a in record['appearances']
            ] == [(row[1], pytest.approx(seconds(row[2]), abs=0.05),
                   pytest.approx(seconds(row[3]), abs=0.05)) for row in rows]
    for appearance in record['appearances']:
        assert len(appearance['matches']) == appearance['num_frames'] >= 1
        assert appearance['best']['similarity'] == max(
            m['similarity'] for m in appearance['matches']) >= 0.99
        assert osp.basename(osp.dirname(
            appearance['source'])) == appearance['camera']
    assert sorted((t['camera'], len(t['intervals']))
                  for t in record['timelines']) == [('cam1', 2), ('cam2', 1)]
    assert record['query']['box'] == [float(v) for v in box]
    assert '  cam1: 2 visits' in out and '  cam2: 1 visits' in out
    drawn = mmcv.imread(str(root / 'seen.jpg'))
    # query crop 40 x 120 -> 20 x 60; three 320 x 240 frames -> 80 x 60
    assert drawn.shape == (60, 20 + 3 * (8 + 80), 3)
    assert GalleryIndex.load(str(root / 'index')).num_images == 45
    # a contact sheet per appearance: the query and 4 of its 7-8 frames
    for rank in (1, 2, 3):
        sheet = mmcv.imread(
            str(root / 'sheets' / f'appearance_{rank:02d}.jpg'))
        assert sheet.shape == (60, 20 + 4 * (8 + 80), 3)
    # a clip per appearance: every frame from 1 s (10 frames) before its
    # start to 1 s after its end, within its video (cam1 60 frames, cam2 30)
    length = dict(cam1=60, cam2=30)
    for row in rows:
        rank, camera, start, end = row[0], row[1], row[2], row[3]
        first = max(0, round(seconds(start) * 10) - 10)
        last = min(length[camera] - 1, round(seconds(end) * 10) + 10)
        clip = str(root / 'clips' / f'appearance_0{rank}.mp4')
        assert f'  {clip}: ' in out
        assert f'frames {first}-{last} ({last - first + 1})' in out
        capture = cv2.VideoCapture(clip)
        assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == last - first + 1
        capture.release()
    assert sorted(os.listdir(
        root / 'clips')) == [f'appearance_0{rank}.mp4' for rank in (1, 2, 3)]

    # the same index again: nothing is read, the answer is the same; a
    # person who is not there gets no appearance
    cv2.imwrite(
        str(root / 'stranger.png'),
        render([(3, 140)], background=(90, 120, 100)))
    run_demo(monkeypatch, str(root / 'stranger.png'), '--box', *box,
             str(root / 'cam1'), str(root / 'cam2'), config, checkpoint,
             *common)
    out = capsys.readouterr().out
    assert '0 appearances' in out
    assert mmcv.imread(str(root / 'seen.jpg')).shape == (60, 20, 3)


def test_demo_checks_its_output_folders_before_reading(footage, monkeypatch,
                                                       tmp_path):
    root, query, config, checkpoint = footage
    (tmp_path / 'taken').write_text('')
    box = [str(v) for v in person_box(140)]
    with pytest.raises(OSError, match='--clips .*taken.*cannot create'):
        run_demo(monkeypatch, query, '--box', *box, str(root / 'cam1'), config,
                 checkpoint, '--min-similarity', '0.9', '--fps', '5',
                 '--clips', str(tmp_path / 'taken' / 'clips'))
    with pytest.raises(SystemExit):
        run_demo(monkeypatch, query, '--box', *box, str(root / 'cam1'), config,
                 checkpoint, '--min-similarity', '0.9', '--fps', '5',
                 '--clips', str(tmp_path / 'clips'), '--clip-margin', '-1')
