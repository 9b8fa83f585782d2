# Copyright (c) mmps contributors. All rights reserved.
"""Training iteration time, inference speed and peak memory of a config.

    python tools/analysis_tools/benchmark.py CONFIG [--train-iters 20]
        [--test-images 40] [--cfg-options ...]

Runs on whatever device is present (a GPU if CUDA is available, else the
CPU) with randomly initialised weights: speed does not depend on them. The
first iterations warm up and are not timed. Peak memory is the process's
resident set on the CPU, ``torch.cuda.max_memory_allocated`` on a GPU.
"""
import argparse
import platform
import resource
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmps.utils import register_all_modules


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--train-iters', type=int, default=20)
    parser.add_argument('--test-images', type=int, default=40)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--work-dir', default='work_dirs/benchmark')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def peak_memory_mb(device: str) -> float:
    """Peak memory so far, in MiB."""
    if device == 'cuda':
        return torch.cuda.max_memory_allocated() / 2**20
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def main():
    """Build the runner and print the figures."""
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    cfg.load_from = None
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
    print(f'config:          {args.config}')
    print(f'device:          {name}')
    print(f'train iteration: {iteration:.3f} s (batch {batch}, '
          f'{batch / iteration:.2f} images/s)')
    print(f'inference:       {images_per_second:.2f} images/s (test batch '
          f'{cfg.test_dataloader.batch_size})')
    print(f'peak memory:     {peak_memory_mb(device):.0f} MiB')


if __name__ == '__main__':
    main()
