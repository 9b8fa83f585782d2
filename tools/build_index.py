# Copyright (c) mmps contributors. All rights reserved.
"""Index footage (videos, images, folders) for person search.

One process::

    python tools/build_index.py CONFIG CKPT footage/ --out footage_index \\
        --fps 2 --cameras cameras.json

Several processes or machines (``tools/dist_build_index.sh``): each rank
indexes its share of the sources (consecutive runs of about equal frame
counts), writes it under ``OUT.parts/``, and rank 0 merges the shares in
rank order into OUT, which equals the index one process builds. An
existing index at OUT is extended: what it holds is not read again.
"""
import argparse
import os
import os.path as osp
import shutil

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.dist import get_dist_info, init_dist
from mmengine.logging import MMLogger, print_log

from mmps.apis import GalleryIndex, PersonSearcher
from mmps.apis.command_line import (add_footage_arguments,
                                    add_runtime_arguments, camera_from,
                                    read_camera_mapping)
from mmps.utils import fall_back_to_gloo
from mmps.utils.warning_filters import ignore_pkg_resources_warning

ignore_pkg_resources_warning()


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the model config')
    parser.add_argument('checkpoint', help='the model checkpoint')
    parser.add_argument(
        'sources', nargs='+', help='video files, image files and folders')
    parser.add_argument(
        '--out',
        required=True,
        help='the index folder (extended if it '
        'exists)')
    add_footage_arguments(parser)
    add_runtime_arguments(parser, device=None)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch'],
        default='none',
        help='pytorch: started by torchrun (tools/dist_build_index.sh)')
    parser.add_argument(
        '--timeout-hours',
        type=float,
        default=24,
        help='how long rank 0 waits for the other ranks\' shares')
    return parser.parse_args()


def main():
    """Index this process's share; rank 0 merges the shares."""
    args = parse_args()
    cameras = read_camera_mapping(args.cameras)
    distributed = args.launcher != 'none'
    if distributed:
        # the runner's road: gloo and no CUDA device call without a GPU
        env = Config(
            dict(
                launcher=args.launcher,
                env_cfg=dict(
                    dist_cfg=dict(
                        backend='nccl', timeout=args.timeout_hours * 3600))))
        fall_back_to_gloo(env)
        if not torch_dist.is_initialized():
            init_dist(args.launcher, **env.env_cfg.dist_cfg)
    rank, world_size = get_dist_info()
    MMLogger.get_instance('mmps', log_level='INFO')
    device = args.device or (f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}'
                             if torch.cuda.is_available() else 'cpu')
    if distributed:
        print_log(
            f'rank {rank} of {world_size}, backend '
            f'{torch_dist.get_backend()}, device {device}',
            logger='current')
    old = GalleryIndex.load(args.out) if osp.isfile(
        osp.join(args.out, 'index.json')) else None
    searcher = PersonSearcher(
        args.config,
        args.checkpoint,
        device=device,
        batch_size=args.batch_size,
        num_workers=args.num_workers)
    part = searcher.build_index(
        args.sources,
        index=old,
        progress=rank == 0,
        fps=args.fps,
        stride=args.stride,
        cameras=cameras,
        camera_from=camera_from(args),
        shard=(rank, world_size) if distributed else None,
        new_only=True)
    parts_dir = f'{osp.normpath(args.out)}.parts'
    if distributed:
        part.save(osp.join(parts_dir, f'rank{rank}'))
        torch_dist.barrier()
    if rank == 0:
        parts = [
            GalleryIndex.load(osp.join(parts_dir, f'rank{r}'))
            for r in range(world_size)
        ] if distributed else [part]
        index = old or GalleryIndex.empty(searcher.embedding_dim,
                                          searcher.fingerprint)
        for part in parts:
            index = index.append(part)
        index.save(args.out)
        if distributed:
            shutil.rmtree(parts_dir)
        print_log(f'wrote {index} to {args.out}', logger='current')
    if distributed:
        torch_dist.barrier()
        torch_dist.destroy_process_group()


if __name__ == '__main__':
    main()
