# Copyright (c) mmps contributors. All rights reserved.
"""Score saved predictions without the model.

    python tools/analysis_tools/eval_search.py CONFIG PREDICTIONS.npz \
        [--cfg-options test_evaluator.gallery_sizes="[50,100,-1]"]

PREDICTIONS.npz is written by ``tools/test.py CONFIG CKPT --out``, or
converted from another codebase (docs/predictions_format.md). The ground
truth comes from the config's test dataset, the protocol from its
``test_evaluator``. Pickles are refused: loading one runs any code it holds.
"""
import argparse
import gc

from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from mmps.evaluation import load_predictions
from mmps.evaluation.offline import dataset_ground_truth, merge_predictions
from mmps.registry import DATASETS, METRICS
from mmps.utils.warning_filters import ignore_pkg_resources_warning

ignore_pkg_resources_warning()


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config of the test data and metric')
    parser.add_argument('predictions', help='the .npz file of predictions')
    parser.add_argument(
        '--allow-pickle',
        action='store_true',
        help='also read a .pkl file of predictions written by an older '
        'mmps. Loading a pickle runs any code it holds: only for files you '
        'wrote yourself')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. '
        'test_evaluator.gallery_sizes="[50,100]"')
    return parser.parse_args()


def main():
    """Load, merge, score and print."""
    # the ~400,000 objects of the imported modules never become garbage:
    # the collections the evaluation's many small objects trigger (and
    # mmengine's gc.collect() after building each dataset) skip them, which
    # saves about a second at CUHK-SYSU's size
    gc.freeze()
    args = parse_args()
    predictions = load_predictions(
        args.predictions, allow_pickle=args.allow_pickle)
    # no register_all_modules: the registries import the modules the config
    # names from their locations (mmps.datasets, mmps.evaluation, mmdet's
    # transforms), not the models, engine and visualization (1-2 s)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmps'))
    MMLogger.get_instance('mmps', log_level='INFO')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    records = merge_predictions(dataset_ground_truth(dataset), predictions)
    evaluator = cfg.test_evaluator
    metric = METRICS.build(
        evaluator[0] if isinstance(evaluator, list) else evaluator)
    metric.dataset_meta = dataset.metainfo
    # not Evaluator.offline_evaluate: its process() makes records of model
    # outputs (casting them to float32); these are records already, scored
    # with the dtypes of the file as check_records judges them
    metrics = metric.compute_metrics(records)
    for name, value in metrics.items():
        print(f'{name}: {value:.6f}')


if __name__ == '__main__':
    main()
