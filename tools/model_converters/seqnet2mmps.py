# Copyright (c) mmps contributors. All rights reserved.
"""Convert a SeqNet checkpoint for mmps' SeqNet configs.

    python tools/model_converters/seqnet2mmps.py SEQNET_CKPT OUT.pth

The output loads with ``configs/seqnet/seqnet_r50_1xb5-20e_cuhk-sysu.py``
(CUHK-SYSU) through ``tools/test.py``, ``PersonSearcher`` and
``demo/search_demo.py``. SeqNet's PRW checkpoint has a lookup table of 482
rows; mmps' PRW config has one row for each of PRW's 483 training
identities: add ``--lookup-table-rows 483`` (the extra row starts at zero;
only training uses the table). The mapping is documented in
``mmps/utils/seqnet_converter.py``.
"""
import argparse
import hashlib
import os.path as osp

import torch

from mmps import __version__
from mmps.utils import (atomic_write, convert_seqnet_state_dict,
                        load_checkpoint_file, seqnet_state_dict)
from mmps.utils.warning_filters import ignore_pkg_resources_warning

ignore_pkg_resources_warning()

LOOKUP_TABLE = 'roi_head.embedding_head.loss_reid.lookup_table'


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(
        description='Convert a SeqNet checkpoint (serend1p1ty/SeqNet) to mmps')
    parser.add_argument('src', help='SeqNet checkpoint, e.g. epoch_19.pth')
    parser.add_argument('dst', help='mmps checkpoint to write')
    parser.add_argument(
        '--lookup-table-rows',
        type=int,
        help='pad the OIM lookup table with zero rows to this many '
        'identities (483 for mmps\' PRW configs)')
    return parser.parse_args()


def sha256(path: str) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def pad_lookup_table(state_dict: dict, rows: int, source: str) -> None:
    """Add zero rows to the lookup table, in place."""
    table = state_dict[LOOKUP_TABLE]
    if rows < len(table):
        raise ValueError(f'{source}: the lookup table has {len(table)} rows; '
                         f'--lookup-table-rows {rows} would drop identities')
    state_dict[LOOKUP_TABLE] = torch.cat(
        [table, table.new_zeros(rows - len(table), table.shape[1])])


def main():
    """Read, convert, check and write."""
    args = parse_args()
    # weights_only with mmps' allow-list: a pickle that runs code is refused
    checkpoint = load_checkpoint_file(args.src)
    state_dict = convert_seqnet_state_dict(
        seqnet_state_dict(checkpoint, args.src), args.src)
    if args.lookup_table_rows is not None:
        pad_lookup_table(state_dict, args.lookup_table_rows, args.src)
    meta = dict(
        converted_from='SeqNet (serend1p1ty/SeqNet)',
        source=osp.basename(args.src),
        source_sha256=sha256(args.src),
        mmps_version=__version__)
    if isinstance(checkpoint, dict) and 'epoch' in checkpoint:
        meta['source_epoch'] = int(checkpoint['epoch'])
    with atomic_write(args.dst) as file:
        torch.save(dict(state_dict=state_dict, meta=meta), file)
    print(f'{args.src} -> {args.dst}: {len(state_dict)} tensors, lookup '
          f'table of {len(state_dict[LOOKUP_TABLE])} identities')


if __name__ == '__main__':
    main()
