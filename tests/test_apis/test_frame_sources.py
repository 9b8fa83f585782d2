# Copyright (c) mmps contributors. All rights reserved.
import math
import os
import os.path as osp
from fractions import Fraction

import cv2
import numpy as np
import pytest

from mmps.apis.cameras import assign_cameras
from mmps.apis.frame_sources import (FrameSources, is_sampled, read_frame,
                                     read_frames, sampling_step, track_frames)
from mmps.apis.media import frame_key, split_frame_key

WIDTH, HEIGHT = 64, 48
BITS = 8  # a 4 x 2 grid of black or white blocks: frame numbers up to 255


def frame_image(number):
    """A frame showing its number in binary, one block per bit."""
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    block_w, block_h = WIDTH // 4, HEIGHT // 2
    for bit in range(BITS):
        if number >> bit & 1:
            row, col = divmod(bit, 4)
            image[row * block_h:(row + 1) * block_h,
                  col * block_w:(col + 1) * block_w] = 255
    return image


def shown_number(image):
    """The number a decoded frame shows (inverse of ``frame_image``)."""
    block_w, block_h = WIDTH // 4, HEIGHT // 2
    number = 0
    for bit in range(BITS):
        row, col = divmod(bit, 4)
        block = image[row * block_h:(row + 1) * block_h,
                      col * block_w:(col + 1) * block_w]
        number |= int(block.mean() > 127) << bit
    return number


def write_video(path, num_frames=30, fps=10, fourcc='MJPG'):
    os.makedirs(osp.dirname(path), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps,
                             (WIDTH, HEIGHT))
    assert writer.isOpened(), f'cannot write {path} with {fourcc}'
    for number in range(num_frames):
        writer.write(frame_image(number))
    writer.release()
    return path


def write_still(path, value=127):
    os.makedirs(osp.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.full((HEIGHT, WIDTH, 3), value, np.uint8))
    return path


def check_frames(frames, source, expected_numbers, fps=10):
    """Each frame is the expected one, by number, time, key and pixels."""
    assert [frame.frame for frame in frames] == expected_numbers
    for frame in frames:
        assert frame.source == source
        assert frame.image.shape == (HEIGHT, WIDTH, 3)
        assert frame.image.dtype == np.uint8
        assert shown_number(frame.image) == frame.frame
        assert frame.timestamp == pytest.approx(frame.frame / fps)
        assert frame.key == f'{source}#frame={frame.frame:06d}'


@pytest.mark.parametrize('name,fourcc', [('clip.avi', 'MJPG'),
                                         ('clip.mp4', 'mp4v'),
                                         ('clip.MKV', 'MJPG')])
def test_stride_samples_every_nth_frame(tmp_path, name, fourcc):
    video = write_video(str(tmp_path / 'cam' / name), fourcc=fourcc)
    frames = list(FrameSources(video, stride=4))
    # all frames are kept before their pixels are checked: none is
    # overwritten by the next decode
    check_frames(frames, video, [0, 4, 8, 12, 16, 20, 24, 28])
    assert all(frame.camera == 'cam' for frame in frames)
    everything = list(FrameSources(video, stride=1))
    check_frames(everything, video, list(range(30)))


@pytest.mark.parametrize(
    'fps,expected',
    [
        (2.5, [0, 4, 8, 12, 16, 20, 24, 28]),
        # the first frame at or after each third of a second
        (3, [0, 4, 7, 10, 14, 17, 20, 24, 27]),
        (1, [0, 10, 20]),
        (10, list(range(30))),
        (25, list(range(30))),
    ])
def test_fps_samples_the_first_frame_of_each_period(tmp_path, fps, expected):
    video = write_video(str(tmp_path / 'clip.avi'))
    sources = FrameSources(video, fps=fps)
    check_frames(list(sources), video, expected)
    step = max(np.diff(expected)) / 10
    assert sources.sampling_steps == {video: pytest.approx(step)}


@pytest.mark.parametrize('video_fps,fps', [(Fraction(30000, 1001), 2),
                                           (Fraction(25), Fraction(3)),
                                           (Fraction(30), Fraction(3)),
                                           (Fraction(24000, 1001), 7.5),
                                           (Fraction(15), Fraction(15)),
                                           (Fraction(12), Fraction(3, 10))])
def test_is_sampled_against_exact_periods(video_fps, fps):
    # 12 fps sampled at 0.3 fps: frame 40 begins the second period, which
    # in floats is 40 * (0.3 / 12) = 0.99999... periods in
    fps = Fraction(fps)
    frames = np.arange(2000)
    # exactly: the first frame at or after each k / fps seconds
    expected = sorted({
        math.ceil(k * video_fps / fps)
        for k in range(int(2000 * fps / video_fps) + 2)
    })
    expected = [i for i in expected if i < 2000]
    got = np.flatnonzero(is_sampled(frames, float(video_fps), float(fps)))
    assert got.tolist() == expected
    assert is_sampled(expected[1], float(video_fps), float(fps))
    assert sampling_step(float(video_fps), float(fps)) == pytest.approx(
        max(np.diff(expected)) / float(video_fps))


def test_sampling_must_be_exactly_one_of_fps_and_stride(tmp_path):
    video = write_video(str(tmp_path / 'clip.avi'))
    still = write_still(str(tmp_path / 'still.jpg'))
    with pytest.raises(ValueError, match='exactly one of fps.*clip.avi'):
        FrameSources([still, video])
    with pytest.raises(ValueError, match='exactly one of fps'):
        FrameSources(video, fps=2, stride=3)
    with pytest.raises(ValueError, match='stride must be a positive int'):
        FrameSources(video, stride=0)
    with pytest.raises(ValueError, match='stride must be a positive int'):
        FrameSources(video, stride=2.5)
    with pytest.raises(ValueError, match='fps must be a positive number'):
        FrameSources(video, fps=-1)
    # stills alone need no sampling
    frames = list(FrameSources(still))
    assert [(f.source, f.frame, f.key) for f in frames] == [(still, -1, still)]
    assert math.isnan(frames[0].timestamp)


def test_folders_and_files_mixed(tmp_path):
    root = tmp_path / 'site'
    cam1 = write_video(str(root / 'cam1' / 'morning.avi'), num_frames=6)
    cam2 = write_video(str(root / 'cam2' / 'noon.AVI'), num_frames=4)
    still = write_still(str(root / 'cam2' / 'snap.PNG'))
    (root / 'cam2' / 'notes.txt').write_text('not footage')
    extra = write_still(str(tmp_path / 'extra' / 'query.jpg'))
    sources = FrameSources([str(root), extra, cam1], stride=2)
    # folders sorted by path, files in the given order, each file once
    assert sources.sources == [cam1, cam2, still, extra]
    frames = list(sources)
    assert [(f.source, f.frame, f.camera)
            for f in frames] == [(cam1, 0, 'cam1'), (cam1, 2, 'cam1'),
                                 (cam1, 4, 'cam1'), (cam2, 0, 'cam2'),
                                 (cam2, 2, 'cam2'), (still, -1, 'cam2'),
                                 (extra, -1, 'extra')]
    assert sources.report == {}
    by_name = FrameSources(str(root), stride=2, camera_from='filename')
    assert by_name.cameras == {cam1: 'morning', cam2: 'noon', still: 'snap'}
    no_camera = FrameSources(str(root), stride=2, camera_from=None)
    assert set(no_camera.cameras.values()) == {None}
    with pytest.raises(ValueError, match="camera_from must be one of"):
        FrameSources(str(root), stride=2, camera_from='parent')


def test_bad_inputs_are_named(tmp_path):
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'readme.md').write_text('no footage')
    (tmp_path / 'notes.txt').write_text('not footage')
    missing = str(tmp_path / 'gone.mp4')
    with pytest.raises(FileNotFoundError, match='gone.mp4'):
        FrameSources([missing], fps=1)
    with pytest.raises(ValueError, match='no images .* in the folder .*empty'):
        FrameSources(str(tmp_path / 'empty'), fps=1)
    with pytest.raises(ValueError, match='notes.txt is not one of the images'):
        FrameSources(str(tmp_path / 'notes.txt'), fps=1)
    # a file removed after listing
    video = write_video(str(tmp_path / 'clip.avi'))
    sources = FrameSources(video, fps=1)
    os.remove(video)
    with pytest.raises(FileNotFoundError, match='clip.avi'):
        list(sources)


def test_camera_mapping(tmp_path):
    site = tmp_path / 'site'
    gate = write_video(str(site / 'gate' / 'a.avi'), num_frames=2)
    hall = write_video(str(site / 'hall' / 'b.avi'), num_frames=2)
    door = write_video(str(site / 'hall' / 'door.avi'), num_frames=2)
    lobby = write_still(str(site / 'lobby' / 'c.jpg'))
    other = write_still(str(tmp_path / 'other' / 'd.jpg'))
    cameras = {
        str(site): 'site',  # a folder
        str(site / 'hall'): 'hall',  # a deeper folder wins
        door: 'door',  # the file itself wins
        '*/lobby/*.jpg': 'lobby-cam',  # a pattern is the last resort
    }
    assigned = assign_cameras([gate, hall, door, lobby, other], cameras)
    assert assigned == {
        gate: 'site',
        hall: 'hall',
        door: 'door',
        lobby: 'site',
        other: 'other'
    }
    only_pattern = assign_cameras([lobby, other], {'*/lobby/*.jpg': 'L'})
    assert only_pattern == {lobby: 'L', other: 'other'}
    frames = FrameSources([str(site)], stride=1, cameras=cameras)
    assert {
        f.source: f.camera
        for f in frames
    } == {
        gate: 'site',
        hall: 'hall',
        door: 'door',
        lobby: 'site'
    }
    unknown = {gate: 'gate', '*.mkv': 'x', str(tmp_path / 'nowhere'): 'y'}
    with pytest.raises(
            ValueError,
            match=r"\['\*.mkv', '.*nowhere'\] match "
            'none of the 4 gallery files'):
        FrameSources([str(site)], stride=1, cameras=unknown)
    with pytest.raises(ValueError, match='non-empty strings'):
        assign_cameras([gate], {gate: ''})


def test_skip_grabs_indexed_frames_without_retrieving(tmp_path, monkeypatch):
    video = write_video(str(tmp_path / 'cam' / 'clip.avi'))
    still = write_still(str(tmp_path / 'cam' / 'still.jpg'))
    calls = dict(grab=0, retrieve=0)

    class CountingCapture:

        def __init__(self, path):
            self.capture = real_capture(path)

        def __getattr__(self, name):
            if name in calls:
                calls[name] += 1
            return getattr(self.capture, name)

    real_capture = cv2.VideoCapture
    monkeypatch.setattr(cv2, 'VideoCapture', CountingCapture)
    first = list(FrameSources([video, still], stride=3))
    assert calls == dict(grab=31, retrieve=10)  # the 31st grab ends it
    indexed = {frame.key for frame in first[:5]} | {still}
    calls.update(grab=0, retrieve=0)
    sources = FrameSources([video, still], stride=3, skip=indexed)
    assert sources.count_frames() == {video: 5, still: 0}
    rest = list(sources)
    check_frames(rest, video, [15, 18, 21, 24, 27])
    assert calls == dict(grab=31, retrieve=5)
    # a video indexed to its last sampled frame is not read at all
    calls.update(grab=0, retrieve=0)
    done = FrameSources([video, still],
                        stride=3,
                        skip={frame.key
                              for frame in first})
    assert list(done) == []
    assert calls == dict(grab=0, retrieve=0)
    assert done.report == {}


def jpeg_frames_before(data, cut):
    """How many MJPEG frames of a file are complete, and how many begin,
    in its first ``cut`` bytes (from the JPEG start and end markers)."""
    starts = [i for i in range(len(data) - 1) if data[i:i + 2] == b'\xff\xd8']
    ends = [
        i + 2 for i in range(len(data) - 1) if data[i:i + 2] == b'\xff\xd9'
    ]
    assert len(starts) == len(ends) == 30
    return sum(end <= cut for end in ends), sum(start < cut
                                                for start in starts)


@pytest.mark.parametrize('stride', [1, 2])
def test_truncated_video_yields_its_decodable_frames(tmp_path, stride):
    video = write_video(str(tmp_path / 'cam' / 'cut.avi'))
    data = open(video, 'rb').read()
    cut = len(data) // 2
    with open(video, 'wb') as file:
        file.write(data[:cut])
    complete, begun = jpeg_frames_before(data, cut)
    assert 0 < complete < 30
    still = write_still(str(tmp_path / 'cam' / 'z.jpg'))
    sources = FrameSources([video, still], stride=stride)
    frames = list(sources)
    assert set(sources.report) == {video}
    failed = sources.report[video]
    assert failed.startswith('truncated or corrupt: frames stop decoding '
                             'from frame ')
    first_failed = int(failed.split('from frame ')[1].split()[0])
    # the failure is at the cut: after the complete frames, not after a
    # frame that did not begin
    assert complete <= first_failed <= begun
    # the frames yielded are those sampled before it, each the right one,
    # and the stills after the video are still read
    check_frames(frames[:-1], video, list(range(0, first_failed, stride)))
    assert frames[-1].source == still
    assert failed.endswith('of the 30 its container announces')


def test_unreadable_files_are_reported(tmp_path):
    cam = tmp_path / 'cam'
    fake = str(cam / 'fake.mp4')
    os.makedirs(cam)
    with open(fake, 'w') as file:
        file.write('this is not a video')
    # an mp4 whose index (at the end) is lost cannot be opened
    lost_index = write_video(str(cam / 'lost.mp4'), fourcc='mp4v')
    data = open(lost_index, 'rb').read()
    with open(lost_index, 'wb') as file:
        file.write(data[:len(data) // 2])
    broken_still = str(cam / 'broken.jpg')
    with open(broken_still, 'wb') as file:
        file.write(b'\xff\xd8 not really a jpeg')
    good = write_video(str(cam / 'good.avi'), num_frames=3)
    sources = FrameSources(str(cam), fps=100)
    frames = list(sources)
    check_frames(frames, good, [0, 1, 2])
    assert sources.report == {
        fake: 'cannot be opened as a video',
        lost_index: 'cannot be opened as a video',
        broken_still: 'cannot be decoded as an image'
    }
    assert sources.count_frames() == {
        fake: 0,
        lost_index: 0,
        broken_still: 1,
        good: 3
    }
    # counting does not touch the report of the iteration
    assert len(sources.report) == 3


def test_count_and_progress_bar(tmp_path, capsys):
    video = write_video(str(tmp_path / 'a' / 'clip.avi'), num_frames=23)
    still = write_still(str(tmp_path / 'a' / 'still.jpg'))
    sources = FrameSources(str(tmp_path / 'a'), fps=4)
    counts = sources.count_frames()
    frames = list(track_frames(sources))
    assert counts == {video: 9, still: 1}
    assert len(frames) == 10
    assert [f.frame for f in frames[:-1]] == [0, 3, 5, 8, 10, 13, 15, 18, 20]
    output = capsys.readouterr().out
    assert '10/10' in output and 'task/s' in output and 'ETA' in output


def test_frame_keys():
    assert frame_key('a/b.mp4', 123) == 'a/b.mp4#frame=000123'
    assert frame_key('a/b.mp4', 1234567) == 'a/b.mp4#frame=1234567'
    assert frame_key('a/b.jpg', -1) == 'a/b.jpg'
    for key in ('a/b.mp4#frame=000123', 'a/b.jpg', 'a#frame=x.jpg',
                'a/b.mp4#frame=1234567'):
        assert frame_key(*split_frame_key(key)) == key
    assert split_frame_key('a/b.mp4#frame=000123') == ('a/b.mp4', 123)
    assert split_frame_key('a/b.jpg') == ('a/b.jpg', -1)


@pytest.mark.parametrize('name,fourcc', [('clip.avi', 'MJPG'),
                                         ('clip.mp4', 'mp4v')])
def test_read_frame_gives_the_frame_of_that_number(tmp_path, name, fourcc):
    video = write_video(str(tmp_path / name), fourcc=fourcc)
    for number in (0, 1, 13, 29, 7):
        assert shown_number(read_frame(video, number)) == number
    with pytest.raises(OSError, match='cannot decode frame 30 of'):
        read_frame(video, 30)
    with pytest.raises(OSError, match='cannot open the video'):
        read_frame(str(tmp_path / 'missing.avi'), 0)


@pytest.mark.parametrize('name,fourcc', [('clip.avi', 'MJPG'),
                                         ('clip.mp4', 'mp4v')])
def test_read_frames_gives_a_run_of_frames(tmp_path, name, fourcc):
    video = write_video(str(tmp_path / name), fourcc=fourcc)
    for first, last in ((0, 4), (13, 17), (26, 29), (7, 7)):
        numbers = [(number, shown_number(image))
                   for number, image in read_frames(video, first, last)]
        assert numbers == [(n, n) for n in range(first, last + 1)]
    # past the end: the frames there are
    assert [n for n, _ in read_frames(video, 27, 40)] == [27, 28, 29]
    assert list(read_frames(video, 30, 35)) == []
    with pytest.raises(OSError, match='cannot open the video'):
        list(read_frames(str(tmp_path / 'missing.avi'), 0, 3))
