# Copyright (c) mmps contributors. All rights reserved.
"""Compare the search backends of GalleryIndex on a large synthetic index.

A synthetic index of unit embeddings (``--data clustered``: noisy copies of
one vector per person, about 20 detections a person; ``--data random``:
independent random vectors) is generated in chunks into a temporary folder
as memory-mapped float32 ``.npy`` files, so generating 10,000,000 x 256
(10 GB) keeps the RAM bounded; the folder is removed at the end. Each
backend (``exact``; ``faiss``, an IVF index, if faiss is installed) is
built and searched with 1 and with ``--batch`` queries; the table gives
the build time (exact: gathering the detections that pass the score
threshold, when they are at most half of the index), the memory the
backend holds (exact: the index's arrays, memory-mapped, and that gathered
copy; faiss: its own copy, from its code size), the peak
RSS of the process after the backend ran (includes the mapped pages read),
the median latencies and the top-k recall against the exact search.

    python tools/analysis_tools/benchmark_search_index.py --boxes 1000000
    python tools/analysis_tools/benchmark_search_index.py \\
        --boxes 10000000 --backends exact exact-gathered faiss \\
        --faiss-encoding PQ128x4fs --overfetch 10 --nprobe 800 1600

At 10,000,000 x 256 the files take 10.3 GB of disk (``--tmp-dir``) and a
'Flat' faiss index 10.3 GB of RAM ('SQ8': 2.6 GB, 'PQ128x4fs': 0.7 GB);
'exact-gathered' copies the passing detections (5.1 GB at half).
"""
import argparse
import os.path as osp
import resource
import shutil
import tempfile
import time

import numpy as np

from mmps.apis import ExactBackend, FaissIVFBackend, GalleryIndex

#: Rows generated at once.
CHUNK = 1 << 18

#: The exact backend's gathering limit by variant ('exact': its default).
GATHERING = {'exact-all': 0.0, 'exact-gathered': 1.0}


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--boxes', type=int, default=100_000)
    parser.add_argument(
        '--boxes-per-image',
        type=int,
        default=5,
        help='detections per image (frame)')
    parser.add_argument('--dim', type=int, default=256)
    parser.add_argument(
        '--data', choices=['clustered', 'random'], default='clustered')
    parser.add_argument(
        '--per-person',
        type=int,
        default=20,
        help='detections per person with --data clustered')
    parser.add_argument(
        '--noise',
        type=float,
        default=0.6,
        help='noise around a person\'s vector, relative to its norm')
    parser.add_argument('--top-k', type=int, default=10)
    parser.add_argument('--score-thr', type=float, default=0.5)
    parser.add_argument('--batch', type=int, default=100)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument(
        '--backends',
        nargs='+',
        default=['exact', 'faiss'],
        choices=['exact', 'exact-all', 'exact-gathered', 'faiss'],
        help='exact: the default exact backend (it gathers the detections '
        'that pass the score threshold when they are at most half of the '
        'index); exact-all: scoring every detection; exact-gathered: '
        'always gathering them')
    parser.add_argument(
        '--chunk-size',
        type=int,
        default=65536,
        help='gallery rows the exact backend scores at once')
    parser.add_argument('--nlist', type=int, default=None, help='faiss cells')
    parser.add_argument(
        '--nprobe',
        type=int,
        nargs='+',
        default=[None],
        help='faiss cells visited; several values share one faiss build '
        '(default: the backend\'s, half of the cells)')
    parser.add_argument(
        '--faiss-encoding',
        default=None,
        help="faiss cell storage: 'Flat', 'SQ8' or 'PQ<M>x4fs' (default: "
        "the backend's, PQ<D/2>x4fs)")
    parser.add_argument(
        '--overfetch',
        type=int,
        default=None,
        help='faiss candidates re-scored exactly per kept match (default: '
        "the backend's)")
    parser.add_argument(
        '--tmp-dir', default=None, help='where the arrays are generated')
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


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def unit_rows(rng: np.random.Generator, count: int, dim: int) -> np.ndarray:
    """``count`` random unit vectors of float32, (count, dim)."""
    rows = rng.standard_normal((count, dim), dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def generate_index(folder: str, args) -> tuple:
    """A synthetic gallery index memory-mapped from ``folder``, and queries.

    Returns:
        tuple[GalleryIndex, np.ndarray]: The index and ``--batch`` unit
        queries (D, ) float32 (noisy views of indexed persons with
        ``--data clustered``).
    """
    rng = np.random.default_rng(args.seed)
    num_images = -(-args.boxes // args.boxes_per_image)
    people = None
    if args.data == 'clustered':
        people = unit_rows(rng, max(1, args.boxes // args.per_person),
                           args.dim)

    def noisy(person_ids):
        rows = people[person_ids] + args.noise / np.sqrt(
            args.dim) * rng.standard_normal(
                (len(person_ids), args.dim), dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    embeddings = np.lib.format.open_memmap(
        osp.join(folder, 'embeddings.npy'),
        mode='w+',
        dtype=np.float32,
        shape=(args.boxes, args.dim))
    for start in range(0, args.boxes, CHUNK):
        count = min(CHUNK, args.boxes - start)
        embeddings[start:start + count] = noisy(
            rng.integers(0, len(people),
                         count)) if people is not None else unit_rows(
                             rng, count, args.dim)
    embeddings.flush()
    xy = rng.uniform(0, 1000, (args.boxes, 2)).astype(np.float32)
    index = GalleryIndex(
        [f'video.mp4#frame={i:06d}' for i in range(num_images)],
        np.tile([[1080, 1920]], (num_images, 1)),
        np.concatenate([xy, xy + 100], axis=1),
        rng.uniform(0, 1, args.boxes).astype(np.float32),
        np.load(embeddings.filename, mmap_mode='r'),
        np.arange(args.boxes) // args.boxes_per_image,
        fingerprint='benchmark',
        sources=['video.mp4'] * num_images,
        frames=np.arange(num_images),
        timestamps=np.arange(num_images) / 25.0)
    queries = noisy(rng.integers(0, len(people), args.batch)) \
        if people is not None else unit_rows(rng, args.batch, args.dim)
    return index, queries


def recall(found: np.ndarray, reference: np.ndarray) -> float:
    """Share of the reference's top-k found, over all queries."""
    hits = sum(
        len(set(a[a >= 0]) & set(b[b >= 0])) for a, b in zip(found, reference))
    return hits / max(1, int((reference >= 0).sum()))


def main():
    """Generate the index, run each backend, print the table."""
    args = parse_args()
    folder = tempfile.mkdtemp(prefix='mmps-bench-index-', dir=args.tmp_dir)
    try:
        start = time.perf_counter()
        index, queries = generate_index(folder, args)
        generated = time.perf_counter() - start
        print(f'index: {len(index):,} detections ({args.data}), '
              f'{args.dim}-d, {index.num_images:,} images, '
              f'{int((index.scores >= args.score_thr).sum()):,} scored at '
              f'least {args.score_thr}; generated and checked in '
              f'{generated:.1f} s; top-{args.top_k}')
        rows, exact_top = [], None
        runs = [(name, None)
                for name in ('exact', 'exact-all', 'exact-gathered')
                if name in args.backends]
        if 'faiss' in args.backends:
            runs += [('faiss', nprobe) for nprobe in args.nprobe]
        faiss_backend = None
        for name, nprobe in runs:
            build = 0.0
            if name.startswith('exact'):
                backend = ExactBackend(args.chunk_size)
                backend.compact_fraction = GATHERING.get(
                    name, backend.compact_fraction)
                start = time.perf_counter()
                gathered = backend.compact(index, args.score_thr)
                build = time.perf_counter() - start
                held = sum(
                    getattr(index, a).nbytes
                    for a in ('embeddings', 'bboxes', 'scores', 'image_index'))
                if gathered is not None:
                    held += sum(array.nbytes for array in gathered)
            else:
                if faiss_backend is None:
                    faiss_backend = FaissIVFBackend(
                        nlist=args.nlist,
                        nprobe=nprobe,
                        encoding=args.faiss_encoding,
                        overfetch=args.overfetch)
                    start = time.perf_counter()
                    faiss_backend.build(index)
                    build = time.perf_counter() - start
                backend = faiss_backend
                if nprobe is not None:
                    backend.nprobe = nprobe
                faiss_index = backend.faiss_index
                held = faiss_index.ntotal * (faiss_index.code_size + 8) + \
                    faiss_index.nlist * args.dim * 4

            def run(count):
                return index.rank(
                    queries[:count],
                    args.top_k,
                    args.score_thr,
                    backend=backend)  # noqa: B023 run at once

            one = median_time(lambda: run(1), args.repeats)
            many = median_time(lambda: run(args.batch), args.repeats)
            top, _ = run(args.batch)
            if exact_top is None and name.startswith('exact'):
                exact_top = top
            found = recall(top, exact_top) if exact_top is not None else None
            label = name if name.startswith('exact') else (
                f'faiss IVF{faiss_index.nlist},{backend.encoding} '
                f'nprobe={backend.nprobe}')
            rows.append((label, build, held / 1e9, peak_rss_gb(), one * 1e3,
                         many * 1e3, found))
        print(f'{"backend":34s} {"build s":>8s} {"held GB":>8s} '
              f'{"peak RSS GB":>11s} {"1 query ms":>11s} '
              f'{f"{args.batch} queries ms":>15s} '
              f'{f"recall@{args.top_k}":>10s}')
        for label, build, held, rss, one, many, found in rows:
            shown = f'{found:.4f}' if found is not None else 'n/a'
            print(f'{label:34s} {build:8.1f} {held:8.3f} {rss:11.2f} '
                  f'{one:11.2f} {many:15.2f} {shown:>10s}')
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == '__main__':
    main()
