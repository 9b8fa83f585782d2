# Copyright (c) mmps contributors. All rights reserved.
"""Where and when does a person appear in footage? A table and a picture.

Example::

    python demo/video_search_demo.py query.jpg --box 120 40 180 220 \\
        footage/cam1 footage/cam2/monday.mp4 \\
        configs/seqnet/seqnet_r50-caffe-c4_1xb5-20e_cuhk-sysu.py seqnet.pth \\
        --fps 2 --min-similarity 0.6 --index footage_index --out seen.jpg

Videos and images (files or folders, mixed) are indexed at ``--fps`` frames
a second (or every ``--stride``-th frame), each with its camera (the
folder's name, or ``--cameras``); with ``--index`` the index is kept and
extended next time without re-reading what it holds. The matches at least
``--min-similarity`` similar (choose it with
``tools/analysis_tools/calibrate_threshold.py``) are grouped into
appearances, printed best first with a timeline per camera, and the best
frame of each is drawn beside the query; ``--contact-sheets`` and
``--clips`` add a picture and a video per drawn appearance.
"""
import argparse
import json
import math
import os
import os.path as osp
from typing import List

import numpy as np
from mmengine.logging import print_log

from mmps.apis import (Appearance, GalleryIndex, appearance_record,
                       camera_timelines, split_frame_key)
from mmps.apis.appearances import format_clock
from mmps.apis.command_line import (add_footage_arguments, add_match_arguments,
                                    add_query_arguments, add_runtime_arguments,
                                    camera_from, read_camera_mapping,
                                    save_if_grown, searcher_from_args)
from mmps.apis.frame_sources import list_frame_sources, read_frame
from mmps.utils.atomic_write import atomic_write
from mmps.utils.warning_filters import ignore_pkg_resources_warning
from mmps.visualization import PersonSearchVisualizer, write_appearance_clip

ignore_pkg_resources_warning()


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_query_arguments(parser)
    parser.add_argument(
        'footage', nargs='+', help='videos, images and folders of them')
    parser.add_argument('config', help='the model config')
    parser.add_argument('checkpoint', help='the model checkpoint')
    add_match_arguments(parser, min_similarity_required=True)
    add_footage_arguments(parser)
    parser.add_argument(
        '--max-gap',
        type=float,
        help='seconds between two matched frames of one appearance '
        '(default: twice the sampling step of the video)')
    parser.add_argument(
        '--index',
        help='folder of the footage index: loaded and extended if it '
        'exists, written otherwise')
    parser.add_argument(
        '--out', default='appearances.jpg', help='the picture to write')
    parser.add_argument(
        '--max-drawn',
        type=int,
        default=8,
        help='appearances drawn (the best ones)')
    parser.add_argument(
        '--contact-sheets',
        metavar='DIR',
        help='also draw, per drawn appearance, its matched frames spread '
        'over its time (DIR/appearance_01.jpg, ...)')
    parser.add_argument(
        '--sheet-frames',
        type=int,
        default=6,
        help='frames on a contact sheet')
    parser.add_argument(
        '--clips',
        metavar='DIR',
        help='also write, per drawn appearance, a video of its footage '
        'with the matched box (DIR/appearance_01.mp4, ...)')
    parser.add_argument(
        '--clip-margin',
        type=float,
        default=1.0,
        help='seconds of footage before and after an appearance in its clip')
    parser.add_argument(
        '--max-clip-seconds',
        type=float,
        default=30.0,
        help='longest clip; a longer appearance is cut around its best '
        'frame')
    parser.add_argument(
        '--clip-format',
        choices=['mp4', 'avi'],
        default='mp4',
        help='mp4 (MPEG-4 part 2) or avi (motion JPEG, larger, lossless-'
        'looking)')
    parser.add_argument(
        '--json',
        metavar='FILE',
        help='also write every appearance (times, boxes, similarities, all '
        'matches) and the per-camera timelines as JSON')
    add_runtime_arguments(parser)
    parser.add_argument('--panel-height', type=int, default=256)
    args = parser.parse_args()
    if not (math.isfinite(args.clip_margin) and args.clip_margin >= 0):
        parser.error(f'--clip-margin must be >= 0, got {args.clip_margin}')
    if not (math.isfinite(args.max_clip_seconds)
            and args.max_clip_seconds > 0):
        parser.error('--max-clip-seconds must be > 0, got '
                     f'{args.max_clip_seconds}')
    return args


def output_folder(folder: str, option: str) -> str:
    """Create an output folder and check that it can be written, before
    any footage is read."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise OSError(f'{option} {folder}: cannot create the folder '
                      f'({error.strerror})') from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f'{option} {folder}: the folder is not '
                              'writable')
    return folder


def appearance_file(folder: str, rank: int, count: int, extension: str) -> str:
    """``folder/appearance_01.jpg``: zero-padded so that the files of
    ``count`` appearances sort by rank."""
    width = max(2, len(str(count)))
    return osp.join(folder, f'appearance_{rank:0{width}d}{extension}')


def print_appearances(appearances: List[Appearance]) -> None:
    """The appearances as a table, then a timeline per camera."""
    print(f'{len(appearances)} appearances')
    if not appearances:
        return
    print(f'{"#":>3}  {"camera":<12} {"start":>10} {"end":>10} '
          f'{"frames":>6} {"best at":>10} {"similarity":>10}  source')
    for rank, a in enumerate(appearances, 1):
        print(
            f'{rank:3d}  {a.camera or "-":<12} {format_clock(a.start):>10} '
            f'{format_clock(a.end):>10} {a.num_frames:6d} '
            f'{format_clock(a.best_timestamp):>10} {a.best_similarity:10.4f}  '
            f'{a.source}')
    print('per camera:')
    for camera, timeline in camera_timelines(appearances).items():
        spans = ', '.join(f'{format_clock(i.start)}-{format_clock(i.end)}'
                          for i in timeline.intervals)
        stills = f', {timeline.num_stills} still images' \
            if timeline.num_stills else ''
        print(f'  {camera or "-"}: {len(timeline.intervals)} visits '
              f'({timeline.total_seconds:.1f} s){stills}: {spans}')


def frame_image(key: str):
    """The image of a frame key: a still's path, or a frame's RGB pixels."""
    source, frame = split_frame_key(key)
    return source if frame < 0 else read_frame(source, frame)[..., ::-1]


def sheet_matches(appearance: Appearance, count: int) -> List[int]:
    """Up to ``count`` matches of an appearance, spread over its time: the
    most similar match of each chosen frame, frames evenly spaced."""
    keys = appearance.match_keys
    frames = list(dict.fromkeys(keys))
    chosen = [
        frames[round(i)]
        for i in np.linspace(0,
                             len(frames) - 1, min(count, len(frames)))
    ]
    return [
        max((i for i, key in enumerate(keys) if key == frame),
            key=lambda i: appearance.match_similarities[i])
        for frame in dict.fromkeys(chosen)
    ]


def draw_contact_sheets(query: str, box, appearances: List[Appearance],
                        folder: str, count: int,
                        visualizer: PersonSearchVisualizer) -> None:
    """One picture per appearance: the query, then its spread frames."""
    for rank, appearance in enumerate(appearances, 1):
        picked = sheet_matches(appearance, count)
        times = [split_frame_key(appearance.match_keys[i])[1] for i in picked]
        fps_known = not np.isnan(appearance.start)
        visualizer.add_search(
            f'appearance_{rank:02d}',
            query,
            box, [frame_image(appearance.match_keys[i]) for i in picked],
            appearance.match_boxes[picked],
            appearance.match_similarities[picked],
            labels=[
                f'{appearance.camera or ""} frame {frame} '
                f'{appearance.match_similarities[i]:.3f}'
                if fps_known else f'{appearance.match_similarities[i]:.3f}'
                for i, frame in zip(picked, times)
            ],
            out_file=appearance_file(folder, rank, len(appearances), '.jpg'))
    print(f'drew {len(appearances)} contact sheets in {folder}')


def write_clips(appearances: List[Appearance], folder: str, margin: float,
                max_seconds: float, extension: str,
                visualizer: PersonSearchVisualizer) -> None:
    """A clip per appearance in a video, named by rank; print each."""
    print(f'clips in {folder}:')
    for rank, appearance in enumerate(appearances, 1):
        if math.isnan(appearance.start):
            print(f'  #{rank}: {appearance.source} is a still image: no clip')
            continue
        clip = write_appearance_clip(
            appearance,
            appearance_file(folder, rank, len(appearances), extension),
            visualizer,
            margin=margin,
            max_seconds=max_seconds,
            title=f'#{rank}')
        cut = ', cut to --max-clip-seconds' if clip.cut else ''
        print(f'  {clip.path}: {format_clock(clip.first_frame / clip.fps)}'
              f'-{format_clock(clip.last_frame / clip.fps)}, frames '
              f'{clip.first_frame}-{clip.last_frame} ({clip.num_frames})'
              f'{cut}')


def write_json(file: str, args, appearances: List[Appearance]) -> None:
    """Write the query, the search settings, every appearance and the
    timelines per camera to ``file`` (atomically)."""
    timelines = [
        dict(
            camera=camera,
            intervals=[interval._asdict() for interval in timeline.intervals],
            total_seconds=timeline.total_seconds,
            num_stills=timeline.num_stills)
        for camera, timeline in camera_timelines(appearances).items()
    ]
    record = dict(
        query=dict(image=args.query, box=[float(v) for v in args.box]),
        min_similarity=args.min_similarity,
        score_thr=args.score_thr,
        config=args.config,
        checkpoint=args.checkpoint,
        appearances=[appearance_record(a) for a in appearances],
        timelines=timelines)
    with atomic_write(file) as handle:
        handle.write(
            json.dumps(record, indent=1, allow_nan=False).encode('utf-8'))
    print(f'wrote {len(appearances)} appearances to {file}')


def main():
    """Index (or load and extend), search, group, print and draw."""
    args = parse_args()
    for folder, option in ((args.contact_sheets, '--contact-sheets'),
                           (args.clips, '--clips')):
        if folder:
            output_folder(folder, option)
    cameras = read_camera_mapping(args.cameras)
    given = set(list_frame_sources(args.footage))
    index = None
    if args.index and osp.isfile(osp.join(args.index, 'index.json')):
        index = GalleryIndex.load(args.index)
        print_log(f'loaded {index} from {args.index}', logger='current')
    searcher = searcher_from_args(args)
    grown = searcher.build_index(
        args.footage,
        index=index,
        fps=args.fps,
        stride=args.stride,
        cameras=cameras,
        camera_from=camera_from(args))
    save_if_grown(index, grown, args.index)

    appearances = searcher.search_appearances(
        args.query,
        args.box,
        grown,
        min_similarity=args.min_similarity,
        score_thr=args.score_thr,
        max_gap=args.max_gap)
    # the index may hold other footage too: only the given files count
    appearances = [a for a in appearances if a.source in given]
    print_appearances(appearances)
    if args.json:
        write_json(args.json, args, appearances)

    drawn = appearances[:args.max_drawn]
    visualizer = PersonSearchVisualizer(panel_height=args.panel_height)
    visualizer.add_search(
        'appearances',
        args.query,
        args.box, [frame_image(a.best_key) for a in drawn],
        [a.best_box for a in drawn], [a.best_similarity for a in drawn],
        labels=[
            f'#{rank} {a.camera or ""} {format_clock(a.best_timestamp)} '
            f'{a.best_similarity:.3f}' for rank, a in enumerate(drawn, 1)
        ],
        out_file=args.out)
    print(f'drew the best frame of {len(drawn)} appearances in {args.out}')
    if args.contact_sheets:
        draw_contact_sheets(args.query, args.box, drawn, args.contact_sheets,
                            args.sheet_frames, visualizer)
    if args.clips:
        write_clips(drawn, args.clips, args.clip_margin, args.max_clip_seconds,
                    f'.{args.clip_format}', visualizer)


if __name__ == '__main__':
    main()
