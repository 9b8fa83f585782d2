# Copyright (c) mmps contributors. All rights reserved.
"""Time GalleryIndex.search on a large random index.

A random index of unit embeddings (by default 100,000 detections of 256
dims in 10,000 images, scores uniform in [0, 1]) is searched with one
query and with a batch of queries; the times are medians of repeated runs.
The baseline ranks with a full sort of all similarities (what a
straightforward implementation does) instead of the partial sort; both
return the same top-k.

    python tools/analysis_tools/benchmark_search_index.py [--boxes 100000]
"""
import argparse
import time

import numpy as np

from mmps.apis import GalleryIndex


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--boxes', type=int, default=100_000)
    parser.add_argument('--images', type=int, default=10_000)
    parser.add_argument('--dim', type=int, default=256)
    parser.add_argument('--top-k', type=int, default=10)
    parser.add_argument('--score-thr', type=float, default=0.5)
    parser.add_argument('--batch', type=int, default=100)
    parser.add_argument('--repeats', type=int, default=30)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def median_time(function, repeats: int) -> float:
    """Median wall time of ``function()`` in seconds (after one warm-up)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def full_sort_search(index: GalleryIndex, queries: np.ndarray, top_k: int,
                     score_thr: float) -> np.ndarray:
    """The baseline: all similarities, fully sorted, the first ``top_k``."""
    keep = np.flatnonzero(index.scores >= score_thr)
    sims = queries @ index.embeddings[keep].T
    return keep[np.argsort(-sims, axis=1, kind='stable')[:, :top_k]]


def main():
    """Build the random index and print the timings."""
    args = parse_args()
    rng = np.random.default_rng(args.seed)

    def unit(n):
        x = rng.standard_normal((n, args.dim)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    xy = rng.uniform(0, 500, (args.boxes, 2)).astype(np.float32)
    index = GalleryIndex([f'{i}.jpg' for i in range(args.images)],
                         np.tile([[1080, 1920]], (args.images, 1)),
                         np.concatenate([xy, xy + 100], axis=1),
                         rng.uniform(0, 1, args.boxes),
                         unit(args.boxes),
                         np.sort(rng.integers(0, args.images, args.boxes)),
                         fingerprint='benchmark')
    queries = unit(args.batch)

    top, _ = index.rank(queries, args.top_k, args.score_thr)
    assert (top == full_sort_search(index, queries, args.top_k,
                                    args.score_thr)).all()

    print(f'index: {len(index)} detections, {args.dim}-d, '
          f'{int((index.scores >= args.score_thr).sum())} above the score '
          f'threshold {args.score_thr}; top-{args.top_k}')
    for count in (1, args.batch):
        ours = median_time(
            lambda: index.search(queries[:count], args.top_k, args.score_thr),
            args.repeats)
        baseline = median_time(
            lambda: full_sort_search(index, queries[:count], args.top_k, args.
                                     score_thr), args.repeats)
        print(f'{count:4d} queries: search {ours * 1e3:8.2f} ms '
              f'({ours / count * 1e3:.3f} ms a query); full sort '
              f'{baseline * 1e3:8.2f} ms; {baseline / ours:.1f}x')


if __name__ == '__main__':
    main()
