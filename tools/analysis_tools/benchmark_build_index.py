# Copyright (c) mmps contributors. All rights reserved.
"""Time PersonSearcher.build_index on a video of real size.

Writes a synthetic video into a temporary folder (removed at the end):
``--size`` pixels (1920 x 1080), ``--video-fps`` (25) frames a second for
``--seconds`` (60), MPEG-4 part 2 (``mp4v``, the encoder OpenCV's wheels
carry), showing ``--persons`` persons of the synthetic dataset's painter
walking across a street-like background. Then, for each sampling rate of
``--fps``, it times

* decoding alone: :class:`~mmps.apis.FrameSources` as ``build_index``
  reads the video (``grab()`` every frame, ``retrieve()`` the sampled
  ones), no model;
* ``build_index``: decoding, the config's test pipeline and the model
  (detection and embedding), one process (``--num-workers 0``: decoding
  and model in turn, so their times add up).

The table gives per rate the sampled frames, decoding's seconds and
frames (all decoded ones) a second, build_index's seconds, sampled and
decoded frames a second, the detections (every score) and the saved
index's size, and the split of build_index's time: ``decode %`` is the
decoding alone's time over it, ``model %`` the rest (test pipeline, model
and index assembly). With loader workers decoding overlaps the model and
the split is not additive.

Without ``--checkpoint`` the model keeps its random initialisation: the
timing is that of a trained model (the same layers run), the detections
are not meaningful and their number (up to the config's ``max_per_img`` a
frame) may differ from a trained model's. The first forward pass (a
warm-up on one frame) is not timed.

    python tools/analysis_tools/benchmark_build_index.py --fps 1 5
    python tools/analysis_tools/benchmark_build_index.py \\
        configs/oim/oim_r18-w32-c4_1xb4-16e_synthetic.py --fps 1 5
"""
import argparse
import os
import os.path as osp
import shutil
import tempfile
import time

import cv2
import numpy as np

from mmps.apis import FrameSources
from mmps.apis.command_line import add_runtime_arguments, searcher_from_args
from mmps.apis.frame_sources import read_frame
from mmps.datasets.synthetic.painter import (Appearance, draw_background,
                                             draw_person)
from mmps.utils.warning_filters import ignore_pkg_resources_warning

ignore_pkg_resources_warning()

DEFAULT_CONFIG = 'configs/oim/oim_r50-caffe-c4_1xb5-20e_cuhk-sysu.py'
#: The repository's root, where DEFAULT_CONFIG is.
REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'config',
        nargs='?',
        default=osp.join(REPO, DEFAULT_CONFIG),
        help=f'the model config (default: {DEFAULT_CONFIG})')
    parser.add_argument(
        '--checkpoint', help='weights (default: random, for timing only)')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=[1920, 1080],
        metavar=('WIDTH', 'HEIGHT'))
    parser.add_argument('--video-fps', type=float, default=25.0)
    parser.add_argument(
        '--seconds', type=float, default=60.0, help='length of the video')
    parser.add_argument('--persons', type=int, default=5)
    parser.add_argument(
        '--fps',
        type=float,
        nargs='+',
        default=[1.0],
        help='sampling rates to time (frames indexed a second)')
    add_runtime_arguments(parser)
    # decoding and model in turn, so that their times add up
    parser.set_defaults(num_workers=0)
    parser.add_argument(
        '--tmp-dir', help='where the video is written (and removed)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    if min(args.size) < 64:
        parser.error(f'--size must be at least 64 x 64, got {args.size}')
    if not args.video_fps > 0 or not args.seconds > 0:
        parser.error('--video-fps and --seconds must be > 0')
    if args.persons < 0 or min(args.fps) <= 0:
        parser.error('--persons must be >= 0 and --fps > 0')
    return args


def write_video(path: str, width: int, height: int, video_fps: float,
                num_frames: int, num_persons: int, seed: int) -> None:
    """Persons of the synthetic painter walking across a background, each
    at its own height, size and speed, coming back in from the other side
    when they leave."""
    rng = np.random.default_rng(seed)
    background = draw_background(height, width, rng)
    looks = [Appearance.sample(rng) for _ in range(num_persons)]
    person_h = rng.uniform(0.25, 0.45, num_persons) * height
    person_w = person_h * np.array([look.width_ratio for look in looks])
    feet = rng.uniform(0.6, 0.98, num_persons) * height
    start = rng.uniform(0, width, num_persons)
    # pixels a frame: 0.5 to 1.5 person heights a second, either way
    speed = rng.uniform(0.5, 1.5, num_persons) * person_h / video_fps * \
        rng.choice([-1, 1], num_persons)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), video_fps,
                             (width, height))
    if not writer.isOpened():
        raise OSError(f'OpenCV cannot write {path} (mp4v)')
    try:
        for frame in range(num_frames):
            canvas = background.copy()
            span = width + person_w
            left = (start + speed * frame + person_w) % span - person_w
            # far (higher feet) first, so that nearer persons cover them
            for i in np.argsort(feet):
                box = np.array([
                    left[i], feet[i] - person_h[i], left[i] + person_w[i],
                    feet[i]
                ])
                # the pose changes every few frames, as in a walk
                draw_person(canvas, box, looks[i],
                            np.random.default_rng((seed, i, frame // 4)),
                            bool(speed[i] < 0))
            writer.write(canvas)
    finally:
        writer.release()


def timed(function):
    """``function()``'s result and its wall time in seconds."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def decode_only(video: str, fps: float) -> int:
    """Read the video as build_index does; the number of sampled frames."""
    return sum(1 for _ in FrameSources([video], fps=fps))


def folder_bytes(folder: str) -> int:
    """Bytes of the files in a folder."""
    return sum(
        osp.getsize(osp.join(root, name)) for root, _, names in os.walk(folder)
        for name in names)


def main():
    """Write the video, time decoding and build_index per rate, clean up."""
    args = parse_args()
    width, height = args.size
    num_frames = int(round(args.seconds * args.video_fps))
    folder = tempfile.mkdtemp(prefix='mmps-bench-build-', dir=args.tmp_dir)
    try:
        video = osp.join(folder, 'cam1', 'footage.mp4')
        os.makedirs(osp.dirname(video))
        _, seconds = timed(
            lambda: write_video(video, width, height, args.video_fps,
                                num_frames, args.persons, args.seed))
        print(f'video: {width}x{height}, {args.video_fps:g} fps, '
              f'{num_frames} frames ({args.seconds:g} s), {args.persons} '
              f'persons, mp4v; written in {seconds:.1f} s')
        searcher = searcher_from_args(args)
        weights = args.checkpoint or 'random weights (timing only)'
        print(f'model: {args.config}, {weights}; device {args.device}, '
              f'batch {args.batch_size}, {args.num_workers} loader workers')
        warm_up = osp.join(folder, 'warm_up.png')
        cv2.imwrite(warm_up, read_frame(video, 0))
        searcher.build_index([warm_up], progress=False)

        print(f'{"fps":>6} {"sampled":>8} {"decode s":>9} '
              f'{"decode frames/s":>16} {"build s":>9} '
              f'{"build sampled/s":>16} {"build frames/s":>15} '
              f'{"detections":>11} {"index MB":>9} {"decode %":>9} '
              f'{"model %":>8}')
        for fps in args.fps:
            sampled, decode_seconds = timed(lambda: decode_only(video, fps))
            index, build_seconds = timed(
                lambda: searcher.build_index([video], fps=fps, progress=False))
            if index.num_images != sampled:
                raise RuntimeError(f'build_index indexed {index.num_images} '
                                   f'frames, the decoding read {sampled}')
            saved = osp.join(folder, f'index_{fps:g}')
            index.save(saved)
            decode_share = min(1.0, decode_seconds / build_seconds)
            print(f'{fps:6g} {sampled:8d} {decode_seconds:9.2f} '
                  f'{num_frames / decode_seconds:16.1f} '
                  f'{build_seconds:9.2f} {sampled / build_seconds:16.2f} '
                  f'{num_frames / build_seconds:15.1f} {len(index):11d} '
                  f'{folder_bytes(saved) / 1e6:9.2f} '
                  f'{100 * decode_share:9.1f} '
                  f'{100 * (1 - decode_share):8.1f}')
    finally:
        shutil.rmtree(folder)


if __name__ == '__main__':
    main()
