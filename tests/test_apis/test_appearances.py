# Copyright (c) mmps contributors. All rights reserved.
import json
import math

import numpy as np
import pytest

from mmps.apis.appearances import (CameraTimeline, Interval, appearance_record,
                                   camera_timelines, group_appearances)


def matches(rows):
    """Arrays of matches from ``(source, frame, fps, camera, similarity)``
    rows; frame -1 is a still. Box ``i`` is ``[i, i, i + 1, i + 1]``."""
    sources = [row[0] for row in rows]
    timestamps = np.array(
        [math.nan if row[1] < 0 else row[1] / row[2] for row in rows])
    keys = [
        row[0] if row[1] < 0 else f'{row[0]}#frame={row[1]:06d}'
        for row in rows
    ]
    boxes = np.arange(len(rows))[:, None] + np.array([0., 0., 1., 1.])
    return dict(
        sources=sources,
        timestamps=timestamps,
        cameras=[row[3] for row in rows],
        similarities=np.array([row[4] for row in rows]),
        boxes=boxes,
        keys=keys)


def test_walk_in_leave_and_come_back():
    # a 10 fps video sampled at 2 fps (every 5th frame, 0.5 s): the person
    # is matched from 1.0 s to 3.0 s, missed from 3.5 s to 5.0 s, and
    # matched again from 5.5 s to 6.5 s; rows are in no particular order
    frames = [30, 10, 15, 25, 20, 55, 65, 60]
    sims = [0.7, 0.6, 0.8, 0.75, 0.9, 0.5, 0.95, 0.4]
    found = group_appearances(
        **matches([('cam1/a.mp4', f, 10, 'cam1', s)
                   for f, s in zip(frames, sims)]),
        sampling_step=0.5)
    assert [(a.start, a.end, a.num_frames) for a in found] == [(5.5, 6.5, 3),
                                                               (1.0, 3.0, 5)]
    back, first = found
    assert back.best_similarity == pytest.approx(0.95)
    assert back.best_key == 'cam1/a.mp4#frame=000065'
    assert back.best_timestamp == pytest.approx(6.5)
    assert back.best_index == 6
    np.testing.assert_array_equal(back.best_box, [6, 6, 7, 7])
    assert first.best_key == 'cam1/a.mp4#frame=000020'
    assert first.best_index == 4
    assert {a.camera for a in found} == {'cam1'}
    assert {a.source for a in found} == {'cam1/a.mp4'}
    # a gap of 2.5 s is bridged by a max_gap of 2.5 s, not by 2.4 s
    merged = group_appearances(
        **matches([('cam1/a.mp4', f, 10, 'cam1', s)
                   for f, s in zip(frames, sims)]),
        max_gap=2.5)
    assert [(a.start, a.end, a.num_frames) for a in merged] == [(1.0, 6.5, 8)]
    assert len(
        group_appearances(
            **matches([('cam1/a.mp4', f, 10, 'cam1', s)
                       for f, s in zip(frames, sims)]),
            max_gap=2.4)) == 2


def test_one_missed_sampled_frame_does_not_split():
    # 30 fps, every 3rd frame (0.1 s): frames 18 and 24 are 0.2 s apart,
    # which is 0.20000000000000007 in floats; frame 33 is 0.3 s after 24
    rows = [('v.mp4', f, 30, 'c', 0.5) for f in (15, 18, 24, 33, 36)]
    found = group_appearances(**matches(rows), sampling_step=0.1)
    assert [(a.start, a.end, a.num_frames)
            for a in found] == [(pytest.approx(0.5), pytest.approx(0.8), 3),
                                (pytest.approx(1.1), pytest.approx(1.2), 2)]
    # per-match gaps: this video's step is 0.2 s, so 0.3 s is bridged
    wide = group_appearances(**matches(rows), sampling_step=np.full(5, 0.2))
    assert [a.num_frames for a in wide] == [5]


def test_two_cameras_and_timelines():
    rows = [
        ('site/gate/0800.mp4', 20, 10, 'gate', 0.6),
        ('site/gate/0800.mp4', 25, 10, 'gate', 0.7),
        ('site/gate/0800.mp4', 300, 10, 'gate', 0.65),
        ('site/hall/0800.mp4', 100, 25, 'hall', 0.9),
        ('site/hall/0800.mp4', 125, 25, 'hall', 0.8),
        ('site/hall/0800.mp4', 150, 25, 'hall', 0.85),
        ('site/hall/snap.jpg', -1, 0, 'hall', 0.3),
        ('other/x.jpg', -1, 0, None, 0.2),
    ]
    found = group_appearances(**matches(rows), max_gap=1.0)
    assert [(a.camera, a.source, a.start, a.end, a.num_frames)
            for a in found][:3] == [
                ('hall', 'site/hall/0800.mp4', 4.0, 6.0, 3),
                ('gate', 'site/gate/0800.mp4', 2.0, 2.5, 2),
                ('gate', 'site/gate/0800.mp4', 30.0, 30.0, 1),
            ]
    assert [(a.camera, a.source, a.num_frames)
            for a in found[3:]] == [('hall', 'site/hall/snap.jpg', 1),
                                    (None, 'other/x.jpg', 1)]
    assert all(math.isnan(a.start) and math.isnan(a.end) for a in found[3:])
    timelines = camera_timelines(found)
    assert list(timelines) == ['gate', 'hall', None]
    assert timelines['gate'] == CameraTimeline(
        intervals=[
            Interval(2.0, 2.5, 'site/gate/0800.mp4'),
            Interval(30.0, 30.0, 'site/gate/0800.mp4')
        ],
        total_seconds=pytest.approx(0.5),
        num_stills=0)
    assert timelines['hall'] == CameraTimeline(
        intervals=[Interval(4.0, 6.0, 'site/hall/0800.mp4')],
        total_seconds=pytest.approx(2.0),
        num_stills=1)
    assert timelines[None] == CameraTimeline([], 0.0, 1)


def test_ties_and_several_matches_in_a_frame():
    rows = [
        ('b.mp4', 50, 10, 'c', 0.8),
        ('b.mp4', 40, 10, 'c', 0.8),  # the earlier frame of a tie is best
        ('b.mp4', 40, 10, 'c', 0.3),  # a second person in that frame
        ('a.mp4', 90, 10, 'c', 0.8),  # same best, later start: ranked after
        ('a.mp4', 10, 10, 'c', 0.8),  # same best and start: by source
        ('s.jpg', -1, 0, 'c', 0.8),  # a still ties too: after the videos
        ('s.jpg', -1, 0, 'c', 0.9),  # two boxes in one still
    ]
    found = group_appearances(**matches(rows), max_gap=1.0)
    assert [(a.source, a.start, a.num_frames, a.best_index)
            for a in found[1:]] == [('a.mp4', 1.0, 1, 4), ('b.mp4', 4.0, 2, 1),
                                    ('a.mp4', 9.0, 1, 3)]
    assert found[0].source == 's.jpg'
    assert found[0].best_index == 6 and found[0].num_frames == 1
    assert all(type(a.source) is str and type(a.camera) is str for a in found)


def slow_appearances(rows, max_gap):
    """The appearances one match at a time (the rows of ``matches``)."""
    by_source = {}
    for i, row in enumerate(rows):
        by_source.setdefault(row[0], []).append(i)
    found = []
    for source, indices in by_source.items():
        if rows[indices[0]][1] < 0:  # a still
            groups = [indices]
        else:

            def time(i):
                return rows[i][1] / rows[i][2]

            indices = sorted(indices, key=time)
            groups = [[indices[0]]]
            for previous, i in zip(indices, indices[1:]):
                if time(i) - time(previous) > max_gap[i] * (1 + 1e-9):
                    groups.append([])
                groups[-1].append(i)
        for group in groups:
            best = min(group, key=lambda i: (-rows[i][4], rows[i][1], i))
            frames = {rows[i][1] for i in group}
            times = [
                math.nan if rows[i][1] < 0 else rows[i][1] / rows[i][2]
                for i in group
            ]
            found.append((source, min(times), max(times), len(frames), best,
                          rows[best][4], group))
    return sorted(
        found,
        key=lambda a: (-a[5], math.isnan(a[1]), 0
                       if math.isnan(a[1]) else a[1], a[0]))


@pytest.mark.parametrize('seed', range(8))
def test_grouping_matches_a_slow_loop(seed):
    rng = np.random.default_rng(seed)
    videos = {
        f'cam{v % 3}/v{v}.mp4': (f'cam{v % 3}', fps, stride)
        for v, (fps, stride) in enumerate([(10, 5), (25, 5), (30,
                                                              3), (29.97,
                                                                   15), (12,
                                                                         1)])
    }
    rows = []
    for source, (camera, fps, stride) in videos.items():
        sampled = np.arange(0, 600, stride)
        chosen = rng.choice(sampled, size=rng.integers(1, 60))
        for frame in chosen:  # repeats: several matches in a frame
            # rounded similarities give ties
            rows.append((source, int(frame), fps, camera,
                         round(float(rng.uniform(0.2, 0.9)), 1)))
    for still in range(4):
        for _ in range(rng.integers(1, 3)):
            rows.append((f'stills/s{still}.jpg', -1, 0, None,
                         round(float(rng.uniform(0.2, 0.9)), 1)))
    rows = [rows[i] for i in rng.permutation(len(rows))]
    steps = {s: stride / fps for s, (_, fps, stride) in videos.items()}
    step = np.array([steps.get(row[0], 1.0) for row in rows])
    found = group_appearances(**matches(rows), sampling_step=step)
    expected = slow_appearances(rows, 2 * step)
    assert len(found) == len(expected)
    keys = matches(rows)['keys']
    for appearance, (source, start, end, num_frames, best, sim,
                     group) in zip(found, expected):
        # its matches, each once, in time order
        assert sorted(appearance.match_keys) == sorted(keys[i] for i in group)
        assert appearance.match_keys == sorted(
            appearance.match_keys,
            key=lambda k: int(k.rsplit('=', 1)[1]) if '#' in k else 0)
        assert sorted(appearance.match_similarities) == sorted(rows[i][4]
                                                               for i in group)
        # box i is [i, i, i + 1, i + 1]: each box, key and similarity are
        # of one match
        members = appearance.match_boxes[:, 0].astype(int)
        assert sorted(members) == sorted(group)
        assert appearance.match_keys == [keys[i] for i in members]
        assert appearance.match_similarities.tolist() == [
            rows[i][4] for i in members
        ]
        assert appearance.source == source
        np.testing.assert_allclose([appearance.start, appearance.end],
                                   [start, end])
        assert appearance.num_frames == num_frames
        assert appearance.best_index == best
        assert appearance.best_similarity == sim
        assert appearance.best_key == matches(rows)['keys'][best]
        assert appearance.camera == rows[best][3]


def test_bad_matches_are_named():
    good = matches([('a.mp4', 1, 10, 'c', 0.5), ('a.mp4', 2, 10, 'c', 0.6)])
    with pytest.raises(ValueError, match='give max_gap'):
        group_appearances(**good)
    with pytest.raises(ValueError, match=r'keys must have shape \(2, \)'):
        group_appearances(**{**good, 'keys': ['x']}, max_gap=1)
    with pytest.raises(ValueError, match=r'boxes must have shape \(2, 4\)'):
        group_appearances(**{**good, 'boxes': np.zeros((2, 5))}, max_gap=1)
    with pytest.raises(ValueError, match='max_gap must be finite and >= 0'):
        group_appearances(**good, max_gap=-1)
    with pytest.raises(ValueError, match='similarities must be finite'):
        group_appearances(
            **{
                **good, 'similarities': np.array([0.5, np.nan])
            }, max_gap=1)
    with pytest.raises(ValueError, match='a.mp4 have different cameras'):
        group_appearances(**{**good, 'cameras': ['c', 'd']}, max_gap=1)
    with pytest.raises(ValueError, match='a.mp4 have both NaN'):
        group_appearances(
            **{
                **good, 'timestamps': np.array([0.1, np.nan])
            }, max_gap=1)
    empty = matches([])
    empty['boxes'] = np.zeros((0, 4))
    assert group_appearances(**empty, max_gap=1) == []


def test_appearance_record_is_plain_json():
    found = group_appearances(
        **matches([('cam1/a.mp4', 20, 10, 'cam1', 0.5),
                   ('cam1/a.mp4', 10, 10, 'cam1', 0.75),
                   ('lobby.jpg', -1, 10, None, 0.625)]),
        sampling_step=1.0)
    video, still = sorted(found, key=lambda a: a.source)
    record = appearance_record(video)
    # through JSON and back: plain types only, no NaN
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    assert record == dict(
        camera='cam1',
        source='cam1/a.mp4',
        start=1.0,
        end=2.0,
        num_frames=2,
        best=dict(
            key='cam1/a.mp4#frame=000010',
            timestamp=1.0,
            box=[1.0, 1.0, 2.0, 2.0],
            similarity=0.75),
        matches=[
            dict(
                key='cam1/a.mp4#frame=000010',
                box=[1.0, 1.0, 2.0, 2.0],
                similarity=0.75),
            dict(
                key='cam1/a.mp4#frame=000020',
                box=[0.0, 0.0, 1.0, 1.0],
                similarity=0.5)
        ])
    record = appearance_record(still)
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    assert (record['camera'], record['start'], record['end'],
            record['best']['timestamp']) == (None, None, None, None)
    assert record['best']['box'] == [2.0, 2.0, 3.0, 3.0]
