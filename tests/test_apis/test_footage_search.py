# Copyright (c) mmps contributors. All rights reserved.
"""Search in footage end to end: videos in, appearances out.

Two cameras film identities 0-2 (see ``_footage.py``); identity 0 walks
through camera 1 twice and camera 2 once, identity 3 never appears; the
threshold is calibrated on labelled stills for precision 1. The
network is replaced by an oracle (``_footage.oracle_predict``); what is
tested is everything around it.
"""
import math
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch

from mmps.apis import GalleryIndex, PersonSearcher, camera_timelines
from mmps.evaluation.functional import choose_threshold, precision_recall_curve
from ._footage import (FPS, footage_config, merge_scripts, oracle_predict,
                       person_box, render, walk, write_footage)

#: Identity 0 in camera 1: frames 5-19 and 40-54 of 60; identity 1 stays.
CAM1 = merge_scripts(
    walk(0, 5, 19, 20, 6), walk(0, 40, 54, 170, -6), walk(1, 0, 59, 250, 0))
#: Identity 0 in camera 2: frames 10-24 of 30; identity 2 in 0-29.
CAM2 = merge_scripts(walk(0, 10, 24, 40, 8), walk(2, 0, 29, 260, 0))


@pytest.fixture(scope='module')
def footage(tmp_path_factory):
    root = tmp_path_factory.mktemp('footage')
    cam1 = write_footage(str(root / 'cam1' / 'day.avi'), CAM1, 60)
    cam2 = write_footage(str(root / 'cam2' / 'day.avi'), CAM2, 30)
    queries = {}
    for identity in (0, 3):
        path = str(root / 'queries' / f'{identity}.png')
        shutil.os.makedirs(osp.dirname(path), exist_ok=True)
        # another background and place than in the footage
        cv2.imwrite(path, render([(identity, 140)], background=(90, 120, 100)))
        queries[identity] = path
    torch.manual_seed(0)
    searcher = PersonSearcher(
        footage_config(str(root / 'unused')), batch_size=3)
    searcher.model.predict = oracle_predict(searcher.model)
    return root, searcher, cam1, cam2, queries


def query_box():
    return person_box(140).tolist()


@pytest.fixture(scope='module')
def threshold(footage):
    """min_similarity for precision 1, calibrated on labelled stills.

    The stills (other images than the footage: two identities each, every
    pair of the six, another background) and their queries are labelled;
    mmps' calibration picks the threshold (as
    ``tools/analysis_tools/calibrate_threshold.py`` does on a split).
    """
    root, searcher, _, _, _ = footage
    stills, truth = [], []
    for first in range(6):
        for second in range(first + 1, 6):
            path = str(root / 'labelled' / f'{first}_{second}.png')
            shutil.os.makedirs(osp.dirname(path), exist_ok=True)
            cv2.imwrite(
                path,
                render([(first, 30), (second, 200)],
                       background=(120, 110, 140)))
            stills.append(path)
            truth.append((first, second))
    index = searcher.build_index(stills, progress=False)
    left = (index.bboxes[:, 0] + index.bboxes[:, 2]) / 2 < 160
    identity = np.array(truth)[index.image_index, (~left).astype(int)]
    queries = searcher.embed_queries(
        [render([(i, 140)], background=(60, 60, 60)) for i in range(6)],
        np.tile(query_box(), (6, 1)))
    similarities = queries @ index.embeddings.T
    labels = identity[None] == np.arange(6)[:, None]
    curve = precision_recall_curve(similarities.ravel(), labels.ravel(),
                                   int(labels.sum()))
    chosen = choose_threshold(curve, min_precision=1.0)
    # strangers stay below it, the same person above
    assert similarities[~labels].max() < chosen <= similarities[labels].min()
    return chosen


def test_an_index_of_videos_knows_where_and_when(footage):
    root, searcher, cam1, cam2, _ = footage
    index = searcher.build_index(str(root), fps=5, progress=False)
    # the queries folder is indexed too: stills after the videos
    videos = [key for key in index.image_paths if '#frame=' in key]
    assert videos == [f'{cam1}#frame={f:06d}' for f in range(0, 60, 2)] + \
        [f'{cam2}#frame={f:06d}' for f in range(0, 30, 2)]
    assert index.sources[:45] == [cam1] * 30 + [cam2] * 15
    assert index.frames[:45].tolist() == list(range(0, 60, 2)) + list(
        range(0, 30, 2))
    np.testing.assert_allclose(index.timestamps[:45], index.frames[:45] / FPS)
    assert index.cameras[:45] == ['cam1'] * 30 + ['cam2'] * 15
    assert index.cameras[45:] == ['queries', 'queries']
    assert np.isnan(index.timestamps[45:]).all()
    # the oracle finds every drawn person, in every sampled frame
    counts = np.bincount(index.image_index, minlength=index.num_images)
    expected = [len(CAM1.get(f, [])) for f in range(0, 60, 2)] + \
        [len(CAM2.get(f, [])) for f in range(0, 30, 2)] + [1, 1]
    assert counts.tolist() == expected


def test_appearances_are_found_with_their_times(footage, threshold):
    root, searcher, cam1, cam2, queries = footage
    index = searcher.build_index([cam1, cam2], fps=5, progress=False)
    step = 2 / FPS
    appearances = searcher.search_appearances(
        queries[0], query_box(), index, min_similarity=threshold)
    found = sorted((a.camera, a.start, a.end) for a in appearances)
    truth = [('cam1', 0.5, 1.9), ('cam1', 4.0, 5.4), ('cam2', 1.0, 2.4)]
    assert len(found) == len(truth)
    for (camera, start, end), (true_camera, true_start,
                               true_end) in zip(found, truth):
        assert camera == true_camera
        # the first and last sampled frames that show the person
        assert true_start <= start <= true_start + step + 1e-9
        assert true_end - step - 1e-9 <= end <= true_end
    for appearance in appearances:
        frame = int(appearance.best_key.rsplit('=', 1)[1])
        script = CAM1 if appearance.camera == 'cam1' else CAM2
        # the best box is identity 0's in its best frame
        (x, ) = [x for identity, x in script[frame] if identity == 0]
        np.testing.assert_allclose(appearance.best_box, person_box(x), atol=6)
        assert appearance.best_similarity >= threshold
    timelines = camera_timelines(appearances)
    assert list(timelines) == ['cam1', 'cam2']
    assert len(timelines['cam1'].intervals) == 2
    assert timelines['cam1'].total_seconds == pytest.approx(
        sum(a.end - a.start for a in appearances if a.camera == 'cam1'))
    # a person who never appears: no appearance, not the best strangers
    assert searcher.search_appearances(
        queries[3], query_box(), index, min_similarity=threshold) == []
    # several queries at once: one list each
    both = searcher.search_appearances([queries[0], queries[3]],
                                       [query_box(), query_box()],
                                       index,
                                       min_similarity=threshold)
    # batched and single query embeddings may differ in the last bits, and
    # equally good frames may then swap as the best: compare the spans
    assert [
        sorted((a.camera, a.start, a.end) for a in query) for query in both
    ] == [found, []]
    np.testing.assert_allclose(
        sorted(a.best_similarity for a in both[0]),
        sorted(a.best_similarity for a in appearances),
        atol=1e-5)


def test_a_larger_gap_joins_the_two_visits(footage):
    root, searcher, cam1, _, queries = footage
    index = searcher.build_index(cam1, fps=5, progress=False)
    appearances = searcher.search_appearances(
        queries[0], query_box(), index, min_similarity=0.99, max_gap=3.0)
    assert len(appearances) == 1
    assert appearances[0].num_frames == 15


def test_appending_footage_reads_only_the_new_frames(footage, monkeypatch):
    root, searcher, cam1, cam2, _ = footage
    whole = searcher.build_index([cam1, cam2], fps=5, progress=False)
    first = searcher.build_index(cam1, fps=5, progress=False)
    read = []
    predict = searcher.model.predict

    def counting(inputs, samples, rescale=True):
        read.extend(samples)
        return predict(inputs, samples, rescale)

    monkeypatch.setattr(searcher.model, 'predict', counting)
    # the same video named another way is recognised
    grown = searcher.build_index(
        [osp.join(osp.dirname(cam1), '.', 'day.avi'), cam2],
        index=first,
        fps=5,
        progress=False)
    assert len(read) == 15
    assert grown.image_paths == whole.image_paths
    np.testing.assert_allclose(grown.embeddings, whole.embeddings, atol=1e-6)


def test_loader_workers_and_shards_give_the_same_index(footage):
    root, searcher, cam1, cam2, _ = footage
    sources = [cam1, str(root / 'queries'), cam2]
    whole = searcher.build_index(sources, fps=5, progress=False)
    searcher.num_workers = 2
    try:
        parallel = searcher.build_index(sources, fps=5, progress=False)
    finally:
        searcher.num_workers = 0
    parts = [
        searcher.build_index(sources, fps=5, progress=False, shard=(rank, 2))
        for rank in range(2)
    ]
    assert parts[0].num_images and parts[1].num_images
    merged = parts[0].append(parts[1])
    for index in (parallel, merged):
        assert index.image_paths == whole.image_paths
        assert index.cameras == whole.cameras
        np.testing.assert_array_equal(index.frames, whole.frames)
        np.testing.assert_allclose(
            index.embeddings, whole.embeddings, atol=1e-5)


def test_a_truncated_video_keeps_its_first_frames(footage, tmp_path):
    root, searcher, cam1, _, _ = footage
    cut = str(tmp_path / 'cam3' / 'cut.avi')
    shutil.os.makedirs(osp.dirname(cut))
    data = open(cam1, 'rb').read()
    with open(cut, 'wb') as file:
        file.write(data[:len(data) // 2])
    index = searcher.build_index([cut, cam1], stride=3, progress=False)
    assert list(index.skipped) == [cut]
    assert 'frames stop decoding from frame' in index.skipped[cut]
    stop = int(index.skipped[cut].split('from frame ')[1].split()[0])
    assert 0 < stop < 60
    assert index.frames[:index.sources.count(cut)].tolist() == list(
        range(0, stop, 3))
    # the other video is whole
    assert index.sources.count(cam1) == 20


def test_bad_footage_inputs_are_refused_by_name(footage, tmp_path):
    root, searcher, cam1, _, queries = footage
    with pytest.raises(FileNotFoundError, match='missing.mp4'):
        searcher.build_index(str(tmp_path / 'missing.mp4'), fps=5)
    with pytest.raises(ValueError, match='give exactly one of fps'):
        searcher.build_index(cam1)
    with pytest.raises(ValueError, match='cam9'):
        searcher.build_index(cam1, fps=5, cameras={'cam9/': 'gate'})
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video')
    index = searcher.build_index([str(broken), queries[0]],
                                 fps=5,
                                 progress=False)
    assert 'cannot be opened as a video' in index.skipped[str(broken)]
    assert index.image_paths == [queries[0]]
    with pytest.raises(ValueError, match='min_similarity must be a finite'):
        searcher.search_appearances(
            queries[0], query_box(), index, min_similarity=math.nan)
    with pytest.raises(ValueError, match='leaves its image'):
        searcher.search_appearances(
            queries[0], [300, 10, 340, 100], index, min_similarity=0.5)
    other = GalleryIndex(index.image_paths, index.image_shapes, index.bboxes,
                         index.scores, index.embeddings, index.image_index,
                         'another-model')
    with pytest.raises(ValueError, match='built by another model'):
        searcher.search_appearances(
            queries[0], query_box(), other, min_similarity=0.5)
