# Copyright (c) mmps contributors. All rights reserved.
"""A small person search dataset that mmps draws itself.

It is written in CUHK-SYSU's (or PRW's) raw format, or in mmps' custom
one, so that the real loaders and the real evaluation protocol run on it.
"""
import json
import os
import os.path as osp
import shutil
import tempfile
from dataclasses import asdict
from typing import Optional

from .generator import SyntheticConfig, SyntheticDataset, generate
from .writers import write_coco, write_cuhk_sysu, write_prw

FORMATS = ('cuhk_sysu', 'prw', 'coco')
_WRITERS = dict(cuhk_sysu=write_cuhk_sysu, prw=write_prw, coco=write_coco)
#: File written last: its presence means the tree is complete.
MARKER = 'SYNTHETIC.json'


def generate_synthetic_dataset(root: str,
                               data_format: str = 'cuhk_sysu',
                               config: Optional[SyntheticConfig] = None,
                               overwrite: bool = False) -> str:
    """Generate a synthetic dataset under ``root`` unless it is there.

    The tree is written to a temporary folder beside ``root`` and moved in
    place at the end, so a reader never sees half a dataset. ``root``
    holds ``SYNTHETIC.json`` with the format and the config it was made
    with; an existing tree made with another config raises unless
    ``overwrite``.

    Args:
        root (str): The dataset folder.
        data_format (str): ``'cuhk_sysu'``, ``'prw'`` or ``'coco'`` (mmps'
            custom format, ``docs/custom_dataset.md``).
        config (SyntheticConfig, optional): Sizes and seed; defaults to
            :class:`SyntheticConfig`'s defaults.
        overwrite (bool): Replace an existing tree. Defaults to False.

    Returns:
        str: ``root``.
    """
    if data_format not in FORMATS:
        raise ValueError(f'data_format must be one of {FORMATS}, got '
                         f'{data_format!r}')
    config = config or SyntheticConfig()
    description = dict(format=data_format, config=asdict(config))
    marker = osp.join(root, MARKER)
    if osp.isfile(marker) and not overwrite:
        with open(marker) as f:
            existing = json.load(f)
        if existing != json.loads(json.dumps(description)):
            raise ValueError(
                f'{root} holds a synthetic dataset made with {existing}, '
                f'not {description}: remove it or pass overwrite=True')
        return root
    if osp.exists(root) and not osp.isfile(marker) and os.listdir(root) \
            and not overwrite:
        raise FileExistsError(f'{root} exists and is not a synthetic '
                              f'dataset of mmps ({MARKER} missing)')
    parent = osp.dirname(osp.abspath(root))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix='.synthetic-', dir=parent)
    try:
        dataset = generate(config)
        _WRITERS[data_format](dataset, staging)
        with open(osp.join(staging, MARKER), 'w') as f:
            json.dump(description, f, indent=2)
        if osp.exists(root):
            shutil.rmtree(root)
        os.replace(staging, root)
    finally:
        if osp.exists(staging):
            shutil.rmtree(staging)
    return root


__all__ = [
    'FORMATS', 'SyntheticConfig', 'SyntheticDataset', 'generate',
    'generate_synthetic_dataset', 'write_coco', 'write_cuhk_sysu', 'write_prw'
]
