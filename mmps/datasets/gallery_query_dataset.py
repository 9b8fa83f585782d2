# Copyright (c) mmps contributors. All rights reserved.
import copy
from typing import List

from mmengine.dataset import ConcatDataset

from mmps.registry import DATASETS


@DATASETS.register_module()
class GalleryQueryDataset(ConcatDataset):
    """The gallery images, then the queries, of one evaluation split.

    One evaluation run scores a search: the gallery's detections and the
    queries' embeddings go to :class:`mmps.evaluation.PersonSearchMetric`
    together. Both parts are built from one dataset config, so that a child
    config overrides its keys (``data_root``, ``pipeline``, ...) once
    instead of restating a list of two datasets.

    Args:
        dataset (dict): Config of a person search dataset (a
            :class:`mmps.datasets.BasePersonSearchDataset`), without
            ``split``.
        split (str): ``'test'`` (the ``'gallery'`` and ``'query'`` splits)
            or ``'val'`` (``'val_gallery'`` and ``'val_query'``).
            Defaults to 'test'.
        lazy_init (bool): Load the annotations on first use. Defaults to
            False.
    """

    #: The two parts of each evaluation split.
    PARTS = dict(test=('gallery', 'query'), val=('val_gallery', 'val_query'))

    def __init__(self,
                 dataset: dict,
                 split: str = 'test',
                 lazy_init: bool = False) -> None:
        if split not in self.PARTS:
            raise ValueError(f'GalleryQueryDataset: split must be one of '
                             f'{tuple(self.PARTS)}, got {split!r}')
        if 'split' in dataset:
            raise ValueError(
                f'GalleryQueryDataset: the dataset config sets split='
                f'{dataset["split"]!r}; leave it out, the wrapper builds '
                f'the {self.PARTS[split]} splits')
        self.split = split
        parts = []
        for part in self.PARTS[split]:
            part_cfg = copy.deepcopy(dataset)
            part_cfg.update(split=part, test_mode=True)
            parts.append(part_cfg)
        super().__init__(parts, lazy_init=lazy_init)


def dataset_part_configs(dataset_cfg: dict) -> List[dict]:
    """The configs of the person search datasets a dataset config builds.

    Args:
        dataset_cfg (dict): The ``dataset`` of a dataloader config: a
            :class:`GalleryQueryDataset` (its one ``dataset``), a
            ``ConcatDataset`` (its ``datasets``) or a dataset.

    Returns:
        list[dict]: The dataset configs themselves (not copies), to read or
        change in place.
    """
    if 'dataset' in dataset_cfg:
        return [dataset_cfg['dataset']]
    if 'datasets' in dataset_cfg:
        return list(dataset_cfg['datasets'])
    return [dataset_cfg]
