# Copyright (c) mmps contributors. All rights reserved.
"""Clips of appearances, on synthetic footage whose every frame is known."""
import os

import cv2
import numpy as np
import pytest

from mmps.apis.appearances import Appearance
from mmps.visualization import PersonSearchVisualizer, write_appearance_clip
from mmps.visualization.appearance_clip import (clip_labels, clip_span,
                                                nearest_matched)
from ..test_apis._footage import (FPS, merge_scripts, person_box, walk,
                                  write_footage)

#: Frames 0-39 at 10 fps: identity 0 walks right in frames 5-19 (left
#: edge 20 + 6 per frame), identity 1 walks left all along (from 270, 3
#: per frame), never nearer than x 150 while identity 0 is matched.
NUM_FRAMES = 40
MATCHED = [6, 8, 10, 12]
SIMILARITIES = [0.9, 0.95, 0.8, 0.85]


def box_at(frame):
    """Identity 0's box in a frame."""
    return person_box(20 + 6 * (frame - 5))


def read_all(path):
    """Every frame of a video, in order, BGR."""
    capture = cv2.VideoCapture(path)
    frames = []
    while True:
        decoded, image = capture.read()
        if not decoded:
            break
        frames.append(image)
    capture.release()
    return frames


@pytest.fixture
def footage(tmp_path):
    video = write_footage(
        str(tmp_path / 'cam1' / 'day.avi'),
        merge_scripts(walk(0, 5, 19, 20, 6), walk(1, 0, 39, 270, -3)),
        NUM_FRAMES)
    boxes = np.array([box_at(f) for f in MATCHED])
    appearance = Appearance(
        camera='cam1',
        source=video,
        start=MATCHED[0] / FPS,
        end=MATCHED[-1] / FPS,
        num_frames=len(MATCHED),
        best_key=f'{video}#frame=000008',
        best_timestamp=0.8,
        best_box=boxes[1],
        best_similarity=0.95,
        best_index=1,
        match_keys=[f'{video}#frame={f:06d}' for f in MATCHED],
        match_boxes=boxes,
        match_similarities=np.array(SIMILARITIES))
    return tmp_path, video, appearance


@pytest.fixture
def visualizer():
    return PersonSearchVisualizer(name=f'test_{np.random.randint(1 << 30)}')


def test_clip_span_by_hand():
    # frames 6-12 at 10 fps, 0.5 s margin: 5 frames before and after
    assert clip_span(6, 12, 8, 10.0, 40, 0.5, 30) == (1, 17, False)
    # clamped to the video; an unknown length is not clamped at the end
    assert clip_span(2, 15, 8, 10.0, 20, 1.0, 30) == (0, 19, False)
    assert clip_span(2, 15, 8, 10.0, 0, 1.0, 30) == (0, 25, False)
    # 1 s at most: 10 frames around the best one (4 before, 5 after) ...
    assert clip_span(6, 12, 8, 10.0, 40, 0.5, 1.0) == (4, 13, True)
    # ... shifted to stay in the span when the best frame is near its end
    assert clip_span(6, 12, 16, 10.0, 40, 0.5, 1.0) == (8, 17, True)
    assert clip_span(6, 12, 1, 10.0, 40, 0.5, 1.0) == (1, 10, True)
    # exactly the longest length is not cut; 25 fps, 0.2 s margin: 5 frames
    assert clip_span(6, 12, 8, 10.0, 40, 0.5, 1.7) == (1, 17, False)
    assert clip_span(100, 100, 100, 25.0, 0, 0.2, 30) == (95, 105, False)


def test_nearest_matched_frame_by_hand():
    nearest = nearest_matched(np.arange(15), np.array([3, 6, 10]))
    # 5 is nearer 6; 8 is as near 6 as 10: the earlier
    assert nearest.tolist() == [
        -1, -1, -1, 0, 0, 1, 1, 1, 1, 2, 2, -1, -1, -1, -1
    ]


def test_labels_name_the_frame_of_a_held_box(footage):
    _, _, appearance = footage
    frames = np.arange(5, 10)
    matched = np.array(MATCHED)
    labels = clip_labels(appearance, '#2', frames, matched,
                         nearest_matched(frames, matched),
                         np.array(SIMILARITIES), 10.0)
    assert labels == [
        '#2 cam1 0:00:00.5', '#2 cam1 0:00:00.6 0.900',
        '#2 cam1 0:00:00.7 0.900 (box of 0:00:00.6)',
        '#2 cam1 0:00:00.8 0.950', '#2 cam1 0:00:00.9 0.950 (box of 0:00:00.8)'
    ]


@pytest.mark.parametrize('extension', ['.avi', '.mp4'])
def test_clip_shows_the_footage_with_the_box(footage, visualizer, extension):
    root, video, appearance = footage
    out = str(root / 'clips' / f'appearance_01{extension}')
    clip = write_appearance_clip(
        appearance, out, visualizer, margin=0.5, title='#1')
    # matched frames 6-12, 0.5 s = 5 frames of margin: frames 1-17
    assert (clip.first_frame, clip.last_frame, clip.num_frames,
            clip.cut) == (1, 17, 17, False)
    assert sorted(os.listdir(root / 'clips')) == [f'appearance_01{extension}']
    capture = cv2.VideoCapture(out)
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(FPS)
    capture.release()
    written, source = read_all(out), read_all(video)
    assert len(written) == 17
    assert written[0].shape == source[0].shape

    # below the label, right of identity 0's boxes: identity 1 walking,
    # the source's frame 1 + i and not its neighbours (codec loss aside)
    def difference(image, frame):
        region = np.s_[40:, 150:]
        return np.abs(image[region].astype(np.float64) -
                      source[frame][region]).mean()

    for i, image in enumerate(written):
        assert difference(image, 1 + i) < 3.5
        assert difference(image, 1 + i) * 2 < min(
            difference(image, 1 + i + step) for step in (-1, 1))

    # the middle of a box's left edge: orange (visualizer.unknown_color)
    # on matched frames and on the frames that hold the nearest one's box
    orange = np.array(visualizer.unknown_color[::-1], np.float64)

    def has_box(frame, box):
        x1, y1, _, y2 = box.astype(int)
        pixel = written[frame - 1][(y1 + y2) // 2, x1].astype(np.float64)
        return np.abs(pixel - orange).max() < 50

    for frame in range(1, 18):
        shown = {
            6: 6,
            7: 6,  # as near 6 as 8: the earlier
            8: 8,
            9: 8,
            10: 10,
            11: 10,
            12: 12
        }.get(frame)
        for matched in MATCHED:
            assert has_box(frame, box_at(matched)) == (matched == shown), \
                (frame, matched)


def test_long_appearance_is_cut_around_its_best_frame(footage, visualizer):
    root, video, appearance = footage
    clip = write_appearance_clip(
        appearance,
        str(root / 'clip.avi'),
        visualizer,
        margin=0.5,
        max_seconds=0.6)
    assert (clip.first_frame, clip.last_frame, clip.cut) == (6, 11, True)
    assert len(read_all(clip.path)) == 6


def test_bad_inputs_are_clear_errors(footage, visualizer):
    root, video, appearance = footage
    with pytest.raises(ValueError, match=r'must end with one of \.mp4, \.avi'):
        write_appearance_clip(appearance, str(root / 'clip.gif'), visualizer)
    with pytest.raises(ValueError, match='margin must be >= 0'):
        write_appearance_clip(
            appearance, str(root / 'clip.avi'), visualizer, margin=-1)
    with pytest.raises(ValueError, match='max_seconds must be > 0'):
        write_appearance_clip(
            appearance, str(root / 'clip.avi'), visualizer, max_seconds=0)
    still = appearance._replace(
        source=str(root / 'a.jpg'), start=float('nan'), end=float('nan'))
    with pytest.raises(ValueError, match='a.jpg is a still image'):
        write_appearance_clip(still, str(root / 'clip.avi'), visualizer)
    gone = appearance._replace(source=str(root / 'gone.avi'))
    with pytest.raises(OSError, match='cannot read the video .*gone.avi'):
        write_appearance_clip(gone, str(root / 'clip.avi'), visualizer)
    # a folder that cannot be made (a file is in the way)
    (root / 'taken').write_text('')
    with pytest.raises(OSError, match='taken'):
        write_appearance_clip(appearance, str(root / 'taken' / 'clip.avi'),
                              visualizer)
    # frames past the end of the video: nothing to write, nothing left
    late = appearance._replace(match_keys=[f'{video}#frame=000050'] * 4)
    with pytest.raises(OSError, match='cannot decode frame 45 of'):
        write_appearance_clip(
            late, str(root / 'late' / 'clip.avi'), visualizer, margin=0.5)
    assert os.listdir(root / 'late') == []
    assert not (root / 'clip.avi').exists()
