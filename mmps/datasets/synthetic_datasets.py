# Copyright (c) mmps contributors. All rights reserved.
from typing import List, Optional

from mmengine import dist

from mmps.registry import DATASETS
from .coco_person_search import CocoPersonSearchDataset
from .cuhk_sysu import CUHKSYSUDataset
from .prw import PRWDataset
from .synthetic import SyntheticConfig, generate_synthetic_dataset


class SyntheticMixin:
    """Generate the synthetic tree at ``data_root`` before loading it.

    Under distributed training rank 0 generates it while the others wait.

    Args:
        synthetic_cfg (dict, optional): Fields of
            :class:`mmps.datasets.synthetic.SyntheticConfig`.
    """

    DATA_FORMAT = ''

    def __init__(self, synthetic_cfg: Optional[dict] = None, **kwargs):
        self.synthetic_cfg = SyntheticConfig(**(synthetic_cfg or {}))
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """Generate the tree if it is missing, then read it."""
        if dist.get_rank() == 0:
            generate_synthetic_dataset(self.data_root, self.DATA_FORMAT,
                                       self.synthetic_cfg)
        dist.barrier()
        return super().load_data_list()


@DATASETS.register_module()
class SyntheticCUHKSYSUDataset(SyntheticMixin, CUHKSYSUDataset):
    """mmps' synthetic dataset in CUHK-SYSU's format, made when missing.

    Args:
        synthetic_cfg (dict, optional): Fields of
            :class:`mmps.datasets.synthetic.SyntheticConfig`.
        **kwargs: Arguments of :class:`CUHKSYSUDataset`.
    """

    DATA_FORMAT = 'cuhk_sysu'


@DATASETS.register_module()
class SyntheticPRWDataset(SyntheticMixin, PRWDataset):
    """mmps' synthetic dataset in PRW's format, made when missing.

    Args:
        synthetic_cfg (dict, optional): Fields of
            :class:`mmps.datasets.synthetic.SyntheticConfig`.
        **kwargs: Arguments of :class:`PRWDataset`.
    """

    DATA_FORMAT = 'prw'


@DATASETS.register_module()
class SyntheticCocoPersonSearchDataset(SyntheticMixin,
                                       CocoPersonSearchDataset):
    """mmps' synthetic dataset in mmps' custom format, made when missing.

    ``ann_file`` defaults to ``annotations/train.json`` for the training
    and validation splits and ``annotations/test.json`` for the test ones,
    as the generator writes them.

    Args:
        synthetic_cfg (dict, optional): Fields of
            :class:`mmps.datasets.synthetic.SyntheticConfig`.
        **kwargs: Arguments of :class:`CocoPersonSearchDataset`.
    """

    DATA_FORMAT = 'coco'

    def __init__(self,
                 split: str = 'train',
                 ann_file: Optional[str] = None,
                 **kwargs) -> None:
        if ann_file is None:
            ann_file = 'annotations/train.json' \
                if split in self.TRAINING_SPLITS else 'annotations/test.json'
        super().__init__(split=split, ann_file=ann_file, **kwargs)
