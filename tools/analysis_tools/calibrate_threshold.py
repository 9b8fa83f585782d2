# Copyright (c) mmps contributors. All rights reserved.
"""Choose the min_similarity of person search on a labelled split.

    python tools/analysis_tools/calibrate_threshold.py CONFIG CKPT \
        [--precision 0.9 | --false-match-rate 0.001] [--split val] \
        [--out calib.json] [--plot calib.png] [--save-predictions val.npz]
    python tools/analysis_tools/calibrate_threshold.py CONFIG \
        --predictions val.npz [...]

A search with ``min_similarity=t`` (``PersonSearcher.search``,
``GalleryIndex.search``) keeps the matches ranked at least ``t``: cosine
similarity, times the detection score when the config's ``test_evaluator``
has ``cws=True`` (as the searcher ranks them). This tool searches every
query of a labelled split in its protocol's gallery and counts, for every
threshold, the (query, gallery detection) pairs kept:

- candidates: every detection scored >= ``--score-thr`` (default: the
  ``score_thr`` of the config's ``test_evaluator``, else 0.5) in every
  image of the query's gallery. The gallery is the protocol's, as the
  metric scores it (``--setting``): on the validation split, every
  validation image but the query's own; on CUHK-SYSU's test split, the
  first gallery size of ``test_evaluator.gallery_sizes`` (100 in mmps'
  configs); on PRW's, all cameras.
- true matches: as the metric labels them, the most similar detection
  matching the query person's ground-truth box in an image (IoU rule of
  :func:`mmps.evaluation.functional.iou_threshold`); every other kept pair,
  a second box on the same person included, is a false match.
- precision: true matches kept / matches kept; recall: true matches kept /
  the images of the gallery showing the query person (a person the
  detector missed counts as missed).
- false matches per query: false matches kept / queries; the false-match
  rate: false matches kept / (query, gallery image) pairs searched, i.e.
  strangers returned per gallery image searched (0.001: one in every 1000
  images). Unlike the count per query, the rate does not grow with the
  size of the gallery.

For a target precision, the chosen threshold is the smallest candidate
similarity ``t`` at which the precision is at least the target at ``t``
and at every higher threshold (precision is not monotone); for a target
false-match rate, the smallest at which the rate is at most the target. The
table gives the curve every ``--step`` and at the chosen threshold, which
is also printed alone as ``min_similarity: <value>``; ``--out`` writes them
to JSON, ``--plot`` draws the curves. The exit code is 2 when no threshold
keeping a match meets the target.

Calibrate on the validation split (the default, the config's
``val_dataloader``): a threshold chosen on the test split makes the test
numbers that use it optimistic. Precision depends on how many strangers a
gallery holds: calibrate on a gallery like the one you search.

``--predictions`` takes a predictions file of the same split instead of
running the model: the one ``--save-predictions`` wrote, or for the test
split one of ``tools/test.py --out``. Pickles are refused.
"""
import argparse
import json
import os.path as osp
import sys
import tempfile
from typing import List, Optional

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from mmps.evaluation import load_predictions
from mmps.evaluation.calibration import search_candidates
from mmps.evaluation.functional import (PrecisionRecallCurve, choose_threshold,
                                        precision_recall_curve)
from mmps.evaluation.offline import dataset_ground_truth, merge_predictions
from mmps.registry import DATASETS, METRICS, RUNNERS
from mmps.utils import atomic_path, atomic_write, register_all_modules
from mmps.utils.warning_filters import ignore_pkg_resources_warning

ignore_pkg_resources_warning()

#: Exit code when no threshold meets the target.
TARGET_NOT_MET = 2
#: Default target precision.
DEFAULT_PRECISION = 0.9


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config of the model and data')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint to run on the split (not with --predictions)')
    parser.add_argument(
        '--predictions',
        help='.npz predictions of the split, instead of running the model')
    parser.add_argument(
        '--save-predictions',
        help='write the predictions made on the split to this .npz file, '
        'to calibrate again with --predictions')
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        '--precision',
        type=float,
        help='target precision of the matches kept (default '
        f'{DEFAULT_PRECISION})')
    target.add_argument(
        '--false-match-rate',
        type=float,
        help='target false matches per gallery image searched (0.001: one '
        'stranger in every 1000 images a query is searched in)')
    parser.add_argument(
        '--split',
        choices=('val', 'test'),
        default='val',
        help='labelled split: the config\'s val_dataloader (default) or '
        'test_dataloader (makes test numbers optimistic)')
    parser.add_argument(
        '--setting',
        help='gallery of the split\'s protocol, a setting of its metric '
        '(e.g. all, cross_camera, g100, g500, full); default: the first')
    parser.add_argument(
        '--score-thr',
        type=float,
        help='minimum detection score of a candidate (default: the '
        'score_thr of the config\'s test_evaluator, else 0.5)')
    parser.add_argument(
        '--step', type=float, default=0.05, help='table step (0.05)')
    parser.add_argument('--out', help='write the curve and choice (.json)')
    parser.add_argument('--plot', help='draw the curves (e.g. .png)')
    parser.add_argument(
        '--work-dir',
        help='folder of the test run\'s logs (default: a temporary one)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. '
        'test_evaluator.gallery_sizes="[500]"')
    args = parser.parse_args()
    if (args.checkpoint is None) == (args.predictions is None):
        parser.error('give a checkpoint to run, or --predictions, not both')
    if args.predictions and args.save_predictions:
        parser.error('--save-predictions needs a checkpoint to run')
    if args.precision is None and args.false_match_rate is None:
        args.precision = DEFAULT_PRECISION
    if args.precision is not None and not 0 < args.precision <= 1:
        parser.error(f'--precision must be in (0, 1], got {args.precision}')
    if args.false_match_rate is not None and args.false_match_rate < 0:
        parser.error(f'--false-match-rate must be >= 0, got '
                     f'{args.false_match_rate}')
    if args.step <= 0:
        parser.error(f'--step must be > 0, got {args.step}')
    return args


def metric_config(evaluator, where: str) -> dict:
    """The person search metric's config among an evaluator's."""
    metrics = evaluator if isinstance(evaluator,
                                      (list, tuple)) else [evaluator]
    for metric in metrics:
        if metric.get('type', '').split('.')[-1] == 'PersonSearchMetric':
            return metric
    raise ValueError(f'{where} holds no PersonSearchMetric, which defines '
                     f'the galleries of the split')


def predict(cfg: Config, loader: str, checkpoint: str, out_file: str,
            work_dir: str):
    """Run the model on a split and write its predictions.

    Args:
        cfg (Config): The full config; its test run is replaced.
        loader (str): The split's data loader, e.g. ``'val_dataloader'``.
        checkpoint (str): The weights, loaded strictly and safely.
        out_file (str): The ``.npz`` file to write.
        work_dir (str): Folder of the run's logs.

    Returns:
        The split's dataset, as the run built it.
    """
    cfg.test_dataloader = cfg[loader]
    cfg.test_evaluator = dict(type='DumpSearchResults', out_file_path=out_file)
    cfg.work_dir = work_dir
    cfg.load_from = checkpoint
    cfg.allow_partial_load = False
    cfg.launcher = 'none'
    cfg.setdefault('runner_type', 'mmps.engine.SafeCheckpointRunner')
    runner = RUNNERS.build(cfg)
    runner.test()
    return runner.test_loop.dataloader.dataset


def labelled_records(args, cfg: Config, loader: str) -> tuple:
    """The split's predictions (made or loaded) with its ground truth.

    Returns:
        tuple: The metric's records, the split's dataset and the
        predictions file (None when not kept).
    """
    if args.predictions:
        predictions = load_predictions(args.predictions)
        dataset = DATASETS.build(cfg[loader].dataset)
        source = args.predictions
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out_file = args.save_predictions or osp.join(tmp, 'preds.npz')
            dataset = predict(cfg, loader, args.checkpoint, out_file,
                              args.work_dir or tmp)
            predictions = load_predictions(out_file)
        source = args.save_predictions

    try:
        records = merge_predictions(dataset_ground_truth(dataset), predictions)
    except ValueError as error:
        raise SystemExit(
            f'{source or "the predictions"}: {error} (predictions of the '
            f'{args.split} split are needed: tools/test.py --out writes '
            f'the test split, this tool\'s --save-predictions the split it '
            f'ran on)')
    return records, dataset, source


def table_thresholds(step: float, chosen: Optional[float]) -> np.ndarray:
    """0 to 1 every ``step``, and the chosen threshold."""
    grid = np.round(np.arange(0, 1 + step / 2, step), 10)
    if chosen is not None:
        grid = np.union1d(grid, [chosen])
    return grid


def curve_rows(curve: PrecisionRecallCurve, num_queries: int,
               num_searched: int) -> List[dict]:
    """The curve as JSON-ready rows."""
    kept = curve.true_matches + curve.false_matches
    return [
        dict(
            min_similarity=float(t),
            precision=float(p) if k else None,
            recall=float(r),
            true_matches=int(tp),
            false_matches=int(fp),
            false_matches_per_query=float(fp) / num_queries,
            false_match_rate=float(fp) / num_searched) for t, p, r, tp, fp, k
        in zip(curve.thresholds, curve.precision, curve.recall,
               curve.true_matches, curve.false_matches, kept)
    ]


def print_table(rows: List[dict], chosen: Optional[float]) -> None:
    """The curve as a text table; the chosen row marked."""
    from terminaltables import AsciiTable
    lines = [[
        'min_similarity', 'precision', 'recall', 'true', 'false',
        'false/query', 'false/1k images'
    ]]
    for row in rows:
        mark = ' *' if row['min_similarity'] == chosen else ''
        lines.append([
            f'{row["min_similarity"]:.4f}{mark}',
            '-' if row['precision'] is None else f'{row["precision"]:.4f}',
            f'{row["recall"]:.4f}', row['true_matches'], row['false_matches'],
            f'{row["false_matches_per_query"]:.3f}',
            f'{1000 * row["false_match_rate"]:.3f}'
        ])
    print(AsciiTable(lines).table)


def plot_curves(path: str, curve: PrecisionRecallCurve, chosen_row,
                title: str) -> None:
    """Precision and recall against the threshold, and against each
    other; the chosen threshold marked."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.plot(curve.thresholds, curve.precision, label='precision')
    left.plot(curve.thresholds, curve.recall, label='recall')
    left.set_xlabel('min_similarity')
    left.set_ylim(0, 1.02)
    right.plot(curve.recall, curve.precision)
    right.set_xlabel('recall')
    right.set_ylabel('precision')
    right.set_xlim(0, 1.02)
    right.set_ylim(0, 1.02)
    if chosen_row is not None:
        left.axvline(
            chosen_row['min_similarity'],
            color='k',
            linestyle='--',
            label=f'chosen {chosen_row["min_similarity"]:.4f}')
        right.plot(chosen_row['recall'], chosen_row['precision'], 'ko')
    left.legend(loc='lower left')
    for axis in (left, right):
        axis.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    extension = osp.splitext(path)[1].lstrip('.') or 'png'
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=extension, dpi=100)
    plt.close(fig)


def main():
    """Predict (or load), label, choose and report."""
    args = parse_args()
    if args.split == 'test':
        print(
            'WARNING: calibrating on the test split: a threshold chosen '
            'on test data makes the test numbers that use it optimistic; '
            'calibrate on the validation split (--split val) to report '
            'test numbers',
            file=sys.stderr)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmps'))
    loader = f'{args.split}_dataloader'
    evaluator = f'{args.split}_evaluator'
    if cfg.get(loader) is None or cfg.get(evaluator) is None:
        raise SystemExit(f'{args.config} has no {loader} and {evaluator}: '
                         f'the {args.split} split cannot be calibrated on')
    metric = METRICS.build(metric_config(cfg[evaluator], evaluator))
    search_cfg = metric_config(cfg.test_evaluator, 'test_evaluator')
    # the searcher ranks as the test does (PersonSearcher's cws)
    cws = bool(search_cfg.get('cws', False))
    score_thr = args.score_thr if args.score_thr is not None else float(
        search_cfg.get('score_thr', 0.5))

    records, dataset, source = labelled_records(args, cfg, loader)
    metric.dataset_meta = dataset.metainfo
    try:
        candidates, setting = search_candidates(records, metric, score_thr,
                                                cws, args.setting)
    except ValueError as error:
        raise SystemExit(f'{source or args.split}: {error}')
    num_queries = len(candidates.num_ground_truth)
    num_searched = int(candidates.gallery_sizes.sum())
    num_positives = int(candidates.num_ground_truth.sum())
    if num_positives == 0:
        raise SystemExit(f'no query person appears in its gallery of the '
                         f'{args.split} split ({setting.name}): nothing to '
                         f'calibrate on')
    curve = precision_recall_curve(candidates.similarities, candidates.is_true,
                                   num_positives)
    if args.precision is not None:
        target = dict(precision=args.precision)
        chosen = choose_threshold(curve, min_precision=args.precision)
    else:
        target = dict(false_match_rate=args.false_match_rate)
        chosen = choose_threshold(
            curve, max_false_matches=args.false_match_rate * num_searched)

    print(f'{args.split} split, gallery {setting.name!r}: {num_queries} '
          f'queries, {num_positives} ground-truth appearances, '
          f'{num_searched} (query, image) pairs searched, '
          f'{len(candidates.similarities)} candidates with detection score '
          f'>= {score_thr}; similarity '
          f'{"times detection score (CWS)" if cws else "(cosine)"}')
    rows = curve_rows(
        curve.at(table_thresholds(args.step, chosen)), num_queries,
        num_searched)
    print_table(rows, chosen)
    chosen_row = None
    if chosen is None:
        name, value = next(iter(target.items()))
        print(
            f'no threshold that keeps a match reaches {name} {value}',
            file=sys.stderr)
    else:
        chosen_row = next(r for r in rows if r['min_similarity'] == chosen)
        print(f'min_similarity: {chosen!r}')

    if args.out:
        report = dict(
            config=args.config,
            checkpoint=args.checkpoint,
            predictions=source,
            split=args.split,
            setting=setting.name,
            score_thr=score_thr,
            cws=cws,
            num_queries=num_queries,
            num_ground_truth=num_positives,
            num_searched_images=num_searched,
            num_candidates=len(candidates.similarities),
            target=target,
            min_similarity=chosen,
            at_min_similarity=chosen_row,
            curve=rows)
        with atomic_write(args.out) as f:
            f.write(json.dumps(report, indent=1).encode())
    if args.plot:
        plot_curves(args.plot, curve, chosen_row,
                    f'{args.split} split, gallery {setting.name}')
    if chosen is None:
        sys.exit(TARGET_NOT_MET)


if __name__ == '__main__':
    main()
