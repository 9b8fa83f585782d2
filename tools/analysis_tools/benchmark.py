# Copyright (c) mmps contributors. All rights reserved.
"""Training iteration time, inference speed and peak memory of a config.

    python tools/analysis_tools/benchmark.py CONFIG [--train-iters 20]
        [--test-images 40] [--synthetic-data] [--cfg-options ...]

Runs on whatever device is present (a GPU if CUDA is available, else the
CPU) with randomly initialised weights: speed does not depend on them. The
first iterations warm up and are not timed. Peak memory is the process's
resident set on the CPU, ``torch.cuda.max_memory_allocated`` on a GPU.

``--synthetic-data`` times a config without its dataset: its CUHK-SYSU, PRW
or custom-format datasets become mmps' synthetic ones in the same format,
generated in a temporary folder, with the config's own pipelines, so images
are resized to the config's scale and the figures are those of the recipe.
"""
import argparse
import os.path as osp
import platform
import resource
import shutil
import tempfile
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmps.datasets import dataset_part_configs
from mmps.utils import register_all_modules
from mmps.utils.warning_filters import ignore_pkg_resources_warning

ignore_pkg_resources_warning()


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--train-iters', type=int, default=20)
    parser.add_argument('--test-images', type=int, default=40)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--work-dir', default='work_dirs/benchmark')
    parser.add_argument(
        '--synthetic-data',
        action='store_true',
        help='replace the datasets by synthetic ones in the same format')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def peak_memory_mb(device: str) -> float:
    """Peak memory so far, in MiB."""
    if device == 'cuda':
        return torch.cuda.max_memory_allocated() / 2**20
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: Dataset types and their synthetic counterparts.
SYNTHETIC_TYPES = {
    'CUHKSYSUDataset': 'SyntheticCUHKSYSUDataset',
    'PRWDataset': 'SyntheticPRWDataset',
    'CocoPersonSearchDataset': 'SyntheticCocoPersonSearchDataset',
}


def use_synthetic_data(cfg: Config, data_root: str) -> None:
    """Make the config's datasets synthetic ones generated at ``data_root``.

    Args:
        cfg (Config): A full config, modified in place.
        data_root (str): Where the synthetic tree is generated.
    """
    for loader in ('train_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        for part in dataset_part_configs(dataset):
            kind = part.type.split('.')[-1]
            if kind not in SYNTHETIC_TYPES.values():
                if kind not in SYNTHETIC_TYPES:
                    raise ValueError(
                        f'{loader}: no synthetic counterpart of dataset '
                        f'type {part.type!r}; expected one of '
                        f'{sorted(SYNTHETIC_TYPES)}')
                part.type = SYNTHETIC_TYPES[kind]
            part.data_root = data_root
            # the official layout's file names, as the generator writes them
            part.pop('ann_file', None)


def time_training(runner: Runner, iters: int, warmup: int) -> float:
    """Seconds per training iteration (forward, backward, step)."""
    model, optim_wrapper = runner.model, runner.optim_wrapper
    model.train()
    loader = iter(runner.train_dataloader)
    times = []
    for i in range(iters + warmup):
        try:
            data = next(loader)
        except StopIteration:
            loader = iter(runner.train_dataloader)
            data = next(loader)
        start = time.perf_counter()
        model.train_step(data, optim_wrapper)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return sum(times) / len(times)


def time_inference(runner: Runner, images: int, warmup: int) -> float:
    """Test images per second (gallery and query samples as they come)."""
    model = runner.model
    model.eval()
    seen, elapsed = 0, 0.0
    with torch.no_grad():
        for i, data in enumerate(runner.test_dataloader):
            start = time.perf_counter()
            model.test_step(data)
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            if i >= warmup:
                elapsed += time.perf_counter() - start
                seen += len(data['inputs'])
            if seen >= images:
                break
    return seen / elapsed


def run(args: argparse.Namespace, cfg: Config) -> None:
    """Build the runner, time it and print the figures."""
    init_default_scope(cfg.get('default_scope', 'mmps'))
    runner = Runner.from_cfg(cfg)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    iteration = time_training(runner, args.train_iters, args.warmup)
    batch = cfg.train_dataloader.batch_size
    images_per_second = time_inference(runner, args.test_images, args.warmup)
    name = torch.cuda.get_device_name() if device == 'cuda' else \
        f'{platform.processor() or platform.machine()} CPU, ' \
        f'{torch.get_num_threads()} threads'
    print(f'config:          {args.config}'
          f'{" (synthetic data)" if args.synthetic_data else ""}')
    print(f'device:          {name}')
    print(f'train iteration: {iteration:.3f} s (batch {batch}, '
          f'{batch / iteration:.2f} images/s)')
    print(f'inference:       {images_per_second:.2f} images/s (test batch '
          f'{cfg.test_dataloader.batch_size})')
    print(f'peak memory:     {peak_memory_mb(device):.0f} MiB')


def main():
    """Read the options, optionally swap in synthetic data, and run."""
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    cfg.load_from = None
    if not args.synthetic_data:
        run(args, cfg)
        return
    data_root = tempfile.mkdtemp(prefix='mmps-benchmark-')
    try:
        use_synthetic_data(cfg, osp.join(data_root, 'data'))
        run(args, cfg)
    finally:
        shutil.rmtree(data_root)


if __name__ == '__main__':
    main()
