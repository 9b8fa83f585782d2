# Copyright (c) mmps contributors. All rights reserved.
"""Draw samples of a dataset after its pipeline, with their person ids.

    python tools/misc/browse_dataset.py CONFIG [--split train|val|test]
        [--output-dir DIR] [--show] [--max-samples N]

Each person box is drawn in the colour of its identity and labelled
``id N`` (the id the model trains with: ``0..L-1`` for the training split),
unlabeled persons grey with ``?``; query samples show their query box.
"""
import argparse
import os
import os.path as osp

import mmcv
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

from mmps.registry import DATASETS
from mmps.utils import register_all_modules
from mmps.utils.warning_filters import ignore_pkg_resources_warning
from mmps.visualization import PersonSearchVisualizer

ignore_pkg_resources_warning()


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--split',
        choices=['train', 'val', 'test'],
        default='train',
        help='which data loader of the config to browse')
    parser.add_argument(
        '--output-dir', help='write the drawings to this folder')
    parser.add_argument(
        '--show', action='store_true', help='show each drawing in a window')
    parser.add_argument(
        '--show-interval', type=float, default=2, help='seconds per image')
    parser.add_argument(
        '--max-samples', type=int, default=50, help='samples to draw')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, xxx=yyy')
    args = parser.parse_args()
    if not args.show and not args.output_dir:
        parser.error('give --output-dir, --show or both')
    return args


def main():
    """Build the dataset, run its pipeline and draw the samples."""
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmps'))
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    visualizer = PersonSearchVisualizer(name='browse_dataset')
    if args.output_dir:
        os.makedirs(args.output_dir, exist_ok=True)
    count = min(args.max_samples, len(dataset))
    progress = ProgressBar(count)
    for index in range(count):
        sample = dataset[index]
        data_sample = sample['data_samples']
        image = sample['inputs'].permute(1, 2, 0).numpy()[..., ::-1]
        instances = data_sample.gt_instances
        person_ids = instances.person_ids.numpy() if 'person_ids' in \
            instances else np.full(len(instances), -1)
        boxes = getattr(instances.bboxes, 'tensor', instances.bboxes)
        drawn = visualizer.draw_person_ids(
            np.ascontiguousarray(image), boxes.numpy(), person_ids)
        name = osp.basename(data_sample.img_path)
        if data_sample.metainfo.get('is_query'):
            name = f'query{data_sample.query_index}_{name}'
        if args.show:
            visualizer.show(drawn, win_name=name, wait_time=args.show_interval)
        if args.output_dir:
            mmcv.imwrite(
                mmcv.rgb2bgr(drawn),
                osp.join(args.output_dir, f'{index:04d}_{name}'))
        progress.update()


if __name__ == '__main__':
    main()
