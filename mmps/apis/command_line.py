# Copyright (c) mmps contributors. All rights reserved.
"""Options shared by the search demos and tools, defined once."""
import argparse
import json
from typing import Dict, Optional


def add_query_arguments(parser: argparse.ArgumentParser) -> None:
    """The query image (positional) and its ``--box``."""
    parser.add_argument('query', help='the query image')
    parser.add_argument(
        '--box',
        type=float,
        nargs=4,
        required=True,
        metavar=('X1', 'Y1', 'X2', 'Y2'),
        help='the query person\'s box in the query image, in pixels')


def add_match_arguments(parser: argparse.ArgumentParser,
                        min_similarity_required: bool = False) -> None:
    """``--score-thr`` and ``--min-similarity`` of the matches."""
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.5,
        help='minimum detection score of a match')
    parser.add_argument(
        '--min-similarity',
        type=float,
        required=min_similarity_required,
        help='minimum similarity of a match (times its score with CWS): a '
        'query whose person is absent gets no match rather than strangers; '
        'choose it with tools/analysis_tools/calibrate_threshold.py')


def add_footage_arguments(parser: argparse.ArgumentParser) -> None:
    """How videos are sampled (``--fps`` or ``--stride``) and ``--cameras``
    (read it with :func:`read_camera_mapping`)."""
    sampling = parser.add_mutually_exclusive_group()
    sampling.add_argument(
        '--fps', type=float, help='video frames to index per second')
    sampling.add_argument(
        '--stride', type=int, help='index every n-th video frame instead')
    parser.add_argument(
        '--cameras',
        help='a JSON file mapping files, folders or glob patterns to camera '
        'names, e.g. {"footage/gate/": "gate", "*_lobby.mp4": "lobby"}')
    parser.add_argument(
        '--camera-from',
        choices=['folder', 'filename', 'none'],
        default='folder',
        help='the camera of a file the mapping does not name')


def add_runtime_arguments(parser: argparse.ArgumentParser,
                          device: Optional[str] = 'cpu') -> None:
    """``--device``, ``--batch-size`` and ``--num-workers``."""
    parser.add_argument(
        '--device',
        default=device,
        help='cpu, cuda or cuda:N' +
        ('' if device else ' (default: cuda:LOCAL_RANK if there is a GPU, '
         'else cpu)'))
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--num-workers', type=int, default=2)


def read_camera_mapping(path: Optional[str]) -> Optional[Dict[str, str]]:
    """The camera mapping of a JSON file: one object of strings.

    Raises:
        SystemExit: Naming the file, if it is not JSON or not such an
            object.
    """
    if path is None:
        return None
    with open(path, encoding='utf-8') as file:
        try:
            cameras = json.load(file)
        except json.JSONDecodeError as error:
            raise SystemExit(f'{path} is not JSON: {error}') from None
    if not isinstance(cameras, dict) or not all(
            isinstance(k, str) and isinstance(v, str)
            for k, v in cameras.items()):
        raise SystemExit(f'{path} must hold one JSON object mapping '
                         'paths or patterns to camera names (strings)')
    return cameras


def camera_from(args: argparse.Namespace) -> Optional[str]:
    """The ``camera_from`` of :meth:`PersonSearcher.build_index`."""
    return None if args.camera_from == 'none' else args.camera_from


def searcher_from_args(args: argparse.Namespace):
    """The :class:`PersonSearcher` of ``config``, ``checkpoint`` and the
    runtime options (:func:`add_runtime_arguments`)."""
    from .person_searcher import PersonSearcher
    return PersonSearcher(
        args.config,
        args.checkpoint,
        device=args.device,
        batch_size=args.batch_size,
        num_workers=args.num_workers)


def save_if_grown(old, grown, folder: Optional[str]) -> None:
    """Write ``grown`` to ``folder`` unless it holds no more than ``old``
    (the index loaded from there, or None)."""
    from mmengine.logging import print_log
    if folder and (old is None or grown.num_images > old.num_images):
        grown.save(folder)
        print_log(f'wrote {grown} to {folder}', logger='current')
