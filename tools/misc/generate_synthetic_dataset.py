# Copyright (c) mmps contributors. All rights reserved.
"""Write mmps' synthetic person search dataset to a folder.

    python tools/misc/generate_synthetic_dataset.py OUT_DIR \\
        [--format cuhk_sysu|prw|coco] [--seed 0] [--num-train-ids 300] ...

Every field of ``mmps.datasets.synthetic.SyntheticConfig`` is an option
(tuples as two numbers). The quick-start config generates its data by
itself; this tool is for a look at the data, or for other sizes.
"""
import argparse
import dataclasses

from mmps.datasets.synthetic import (FORMATS, SyntheticConfig,
                                     generate_synthetic_dataset)
from mmps.utils.warning_filters import ignore_pkg_resources_warning

ignore_pkg_resources_warning()


def parse_args():
    """Command line options, one per field of SyntheticConfig."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='the dataset folder to write')
    parser.add_argument('--format', choices=FORMATS, default='cuhk_sysu')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing tree')
    for field in dataclasses.fields(SyntheticConfig):
        option = '--' + field.name.replace('_', '-')
        if isinstance(field.default, tuple):
            parser.add_argument(
                option,
                type=type(field.default[0]),
                nargs=2,
                default=field.default,
                help=f'default {field.default}')
        else:
            parser.add_argument(
                option,
                type=type(field.default),
                default=field.default,
                help=f'default {field.default}')
    return parser.parse_args()


def main():
    """Generate the dataset."""
    args = parse_args()
    config = SyntheticConfig(
        **{
            field.name: (tuple(getattr(args, field.name)) if isinstance(
                field.default, tuple) else getattr(args, field.name))
            for field in dataclasses.fields(SyntheticConfig)
        })
    root = generate_synthetic_dataset(args.out_dir, args.format, config,
                                      args.overwrite)
    print(f'wrote a synthetic dataset in the {args.format} format to {root}')


if __name__ == '__main__':
    main()
