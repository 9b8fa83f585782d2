# Copyright (c) mmps contributors. All rights reserved.
"""Time mmps' vectorised search evaluation against a plain-loop reference.

Random predictions of the size of CUHK-SYSU's test set (by default 6978
gallery images, 45000 detections above the score threshold, 2900 queries,
256-d) are scored for the gallery sizes 50 to 4000 (those smaller than
``--images``) and the full set. The
plain loop follows the reference code's structure (per query, per gallery
image, per detection); it runs on a sample of queries and its time is
scaled to all queries. Both give the same mAP on the sample.

    python tools/analysis_tools/benchmark_metric.py [--queries 2900] ...
        [--cbgm]

``--cbgm`` also times the CBGM re-ranking (k1=10, k2=3, random context
persons) for every setting.
"""
import argparse
import time

import numpy as np
from sklearn.metrics import average_precision_score

from mmps.evaluation.functional import (GalleryDetections, QueryContext,
                                        QueryGroundTruth, rank_queries)
from mmps.evaluation.metrics.search_protocols import SearchSetting

SIZES = (50, 100, 500, 1000, 2000, 4000)


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=6978)
    parser.add_argument('--detections', type=int, default=45000)
    parser.add_argument('--queries', type=int, default=2900)
    parser.add_argument('--dim', type=int, default=256)
    parser.add_argument(
        '--reference-sample',
        type=int,
        default=100,
        help='queries scored by the plain loop')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--cbgm', action='store_true', help='also time CBGM re-ranking')
    return parser.parse_args()


def make_problem(args):
    """Random detections, queries, and galleries of every size."""
    rng = np.random.default_rng(args.seed)
    image_index = np.sort(rng.integers(0, args.images, args.detections))
    xy = rng.uniform(0, 800, (args.detections, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(20, 200, (len(xy), 2))], 1)
    emb = rng.normal(size=(args.detections, args.dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    detections = GalleryDetections(boxes, emb, image_index, args.images)
    queries = rng.normal(size=(args.queries, args.dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    query_image = rng.integers(0, args.images, args.queries)
    # each person in 1 to 4 other images, next to one of its detections
    gt_rows = []
    for q in range(args.queries):
        for image in rng.choice(args.images, rng.integers(1, 5)):
            dets = np.flatnonzero(image_index == image)
            box = boxes[rng.choice(dets)] + rng.normal(
                0, 5, 4) if len(dets) else np.array([0, 0, 50, 100.])
            gt_rows.append((q, image, box))
    gt = QueryGroundTruth(
        np.array([r[0] for r in gt_rows]), np.array([r[1] for r in gt_rows]),
        np.array([r[2] for r in gt_rows]))
    settings = []
    # a gallery size needs that many images besides the query's
    for size in [size for size in SIZES if size < args.images]:
        galleries = []
        for q in range(args.queries):
            positives = np.unique(gt.image_index[gt.query_index == q])
            others = rng.choice(args.images, size, replace=False)
            others = others[~np.isin(others, positives)
                            & (others != query_image[q])]
            galleries.append(
                np.concatenate([positives, others[:size - len(positives)]]))
        settings.append(SearchSetting(f'g{size}', galleries, gt))
    all_images = np.arange(args.images)
    settings.append(
        SearchSetting('full',
                      [all_images[all_images != i] for i in query_image], gt))
    return queries, detections, settings


def reference_map(queries, detections, setting, sample):
    """The reference code's loops, for the first ``sample`` queries."""
    by_image = {}
    for image in range(detections.num_images):
        dets = np.flatnonzero(detections.image_index == image)
        if len(dets):
            by_image[image] = (detections.boxes[dets],
                               detections.embeddings[dets])
    gt = setting.ground_truth
    aps = []
    for q in range(sample):
        y_true, y_score, count_gt, count_tp = [], [], 0, 0
        gt_of = {
            int(i): b
            for i, b in zip(gt.image_index[gt.query_index == q], gt.boxes[
                gt.query_index == q])
        }
        for image in setting.galleries[q]:
            count_gt += int(image) in gt_of
            if image not in by_image:
                continue
            det, feat = by_image[image]
            sim = feat.dot(queries[q])
            label = np.zeros(len(sim), dtype=np.int32)
            if int(image) in gt_of:
                box = gt_of[int(image)]
                w, h = box[2] - box[0], box[3] - box[1]
                thr = min(0.5, w * h / ((w + 10) * (h + 10)))
                order = np.argsort(sim)[::-1]
                for j in order:
                    d = det[j]
                    iw = max(0, min(d[2], box[2]) - max(d[0], box[0]))
                    ih = max(0, min(d[3], box[3]) - max(d[1], box[1]))
                    union = (d[2] - d[0]) * (d[3] - d[1]) + w * h - iw * ih
                    if iw * ih / union >= thr:
                        label[j] = 1
                        count_tp += 1
                        break
            y_true.extend(label)
            y_score.extend(sim)
        aps.append(0 if count_tp ==
                   0 else average_precision_score(y_true, y_score) * count_tp /
                   count_gt)
    return float(np.mean(aps))


def main():
    """Print the times of both implementations and their ratio."""
    args = parse_args()
    queries, detections, settings = make_problem(args)
    print(f'{args.queries} queries, {args.images} gallery images, '
          f'{args.detections} detections, {args.dim}-d')
    print(f'{"setting":>8} {"mmps (s)":>10} {"loop (s, est.)":>15} '
          f'{"ratio":>7} {"mAP check":>10}')
    total = 0.0
    dense = None
    for setting in settings:
        start = time.perf_counter()
        if setting.is_large(detections.num_images) and dense is None:
            dense = queries @ detections.embeddings.T
        results = rank_queries(
            queries, detections, setting.galleries, setting.ground_truth, 10,
            dense if setting.is_large(detections.num_images) else None)
        fast = time.perf_counter() - start
        total += fast
        sample = min(args.reference_sample, args.queries)
        start = time.perf_counter()
        expected = reference_map(queries, detections, setting, sample)
        loop = (time.perf_counter() - start) * args.queries / sample
        got = float(np.nanmean(results.average_precision[:sample]))
        check = 'same' if abs(got - expected) < 1e-6 else \
            f'{got - expected:+.1e}'
        print(f'{setting.name:>8} {fast:10.3f} {loop:15.2f} '
              f'{loop / fast:6.1f}x {check:>10}')
    print(f'all settings together (mmps): {total:.2f} s')
    if args.cbgm:
        time_cbgm(args, queries, detections, settings, dense)


def time_cbgm(args, queries, detections, settings, dense):
    """Seconds of every setting with CBGM (k1=10, k2=3)."""
    rng = np.random.default_rng(args.seed + 1)
    embeddings = np.zeros((len(queries), 3, args.dim), np.float32)
    embeddings[:, 0] = queries
    others = rng.normal(size=(len(queries), 2, args.dim))
    embeddings[:, 1:] = others / np.linalg.norm(others, axis=2, keepdims=True)
    context = QueryContext(embeddings, np.full(len(queries), 3))
    print('with CBGM (k1=10, k2=3):')
    for setting in settings:
        large = setting.is_large(detections.num_images)
        start = time.perf_counter()
        rank_queries(queries, detections, setting.galleries,
                     setting.ground_truth, 10, dense if large else None,
                     context, 10)
        print(f'{setting.name:>8} {time.perf_counter() - start:10.3f}')


if __name__ == '__main__':
    main()
