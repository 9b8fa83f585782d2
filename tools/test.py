# Copyright (c) mmps contributors. All rights reserved.
"""Evaluate a person search model: ``python tools/test.py CONFIG CKPT``."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process
from mmengine.logging import print_log

from mmps.evaluation import DumpSearchResults
from mmps.registry import RUNNERS
from mmps.utils import fall_back_to_gloo, register_all_modules
from mmps.utils.warning_filters import ignore_pkg_resources_warning
from mmps.visualization import draw_worst_queries

ignore_pkg_resources_warning()


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a person searcher')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--out',
        type=str,
        help='write the raw predictions (gallery detections with '
        'embeddings, query embeddings) to this .npz file, to score them '
        'again with tools/analysis_tools/eval_search.py '
        '(docs/predictions_format.md)')
    parser.add_argument(
        '--show-dir',
        help='directory where the worst queries of the evaluation are '
        'written (worst_queries.json) and drawn beside their top matches '
        '(one picture per query)')
    parser.add_argument(
        '--num-worst',
        type=int,
        default=50,
        help='how many worst queries --show-dir keeps')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    """Build the runner from the config and test the checkpoint."""
    args = parse_args()
    register_all_modules(init_default_scope=False)

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    fall_back_to_gloo(cfg)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    # a tested checkpoint must hold every weight of the model
    cfg.allow_partial_load = False

    if args.show_dir:
        evaluators = cfg.test_evaluator if isinstance(
            cfg.test_evaluator, list) else [cfg.test_evaluator]
        for evaluator in evaluators:
            if evaluator.get('type') == 'PersonSearchMetric':
                evaluator.worst_queries_file = osp.join(
                    args.show_dir, 'worst_queries.json')
                evaluator.num_worst_queries = args.num_worst

    # mmps' runner loads checkpoints safely and strictly, saves atomically
    cfg.setdefault('runner_type', 'mmps.engine.SafeCheckpointRunner')
    runner = RUNNERS.build(cfg)

    if args.out is not None:
        runner.test_evaluator.metrics.append(
            DumpSearchResults(out_file_path=args.out))
    runner.test()

    if args.show_dir and is_main_process():
        worst = osp.join(args.show_dir, 'worst_queries.json')
        if osp.isfile(worst):
            files = draw_worst_queries(worst, args.show_dir)
            print_log(
                f'drew {len(files)} worst queries in {args.show_dir}',
                logger='current')


if __name__ == '__main__':
    main()
