# Copyright (c) mmps contributors. All rights reserved.
"""Score saved predictions without the model.

    python tools/analysis_tools/eval_search.py CONFIG PREDICTIONS.pkl \
        [--cfg-options test_evaluator.gallery_sizes="[50,100,-1]"]

PREDICTIONS.pkl is written by ``tools/test.py CONFIG CKPT --out``, or
converted from another codebase (docs/predictions_format.md). The ground
truth comes from the config's test dataset, the protocol from its
``test_evaluator``.
"""
import argparse

from mmengine.config import Config, DictAction
from mmengine.fileio import load
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from mmps.evaluation.offline import dataset_ground_truth, merge_predictions
from mmps.registry import DATASETS, METRICS
from mmps.utils import register_all_modules


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config of the test data and metric')
    parser.add_argument('predictions', help='the .pkl file of predictions')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. '
        'test_evaluator.gallery_sizes="[50,100]"')
    return parser.parse_args()


def main():
    """Load, merge, score and print."""
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmps'))
    MMLogger.get_instance('mmps', log_level='INFO')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    records = merge_predictions(
        dataset_ground_truth(dataset), load(args.predictions))
    evaluator = cfg.test_evaluator
    metric = METRICS.build(
        evaluator[0] if isinstance(evaluator, list) else evaluator)
    metrics = metric.compute_metrics(records)
    for name, value in metrics.items():
        print(f'{name}: {value:.6f}')


if __name__ == '__main__':
    main()
