# Copyright (c) mmps contributors. All rights reserved.
from mmdet.datasets.transforms import PackDetInputs

from mmps.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackPersonSearchInputs(PackDetInputs):
    """Pack a sample for person search models.

    mmdet's ``PackDetInputs`` with ``gt_person_ids`` packed into
    ``gt_instances.person_ids`` (and ``ignored_instances``), and the query
    and camera keys kept in the metainfo.

    Args:
        meta_keys (Sequence[str]): Keys of ``results`` kept in the
            metainfo. Defaults to mmdet's keys plus ``'is_query'``,
            ``'query_index'`` and ``'cam_id'``.
    """

    mapping_table = {
        **PackDetInputs.mapping_table, 'gt_person_ids': 'person_ids'
    }

    def __init__(
        self,
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor', 'flip', 'flip_direction', 'is_query',
                   'query_index', 'cam_id')
    ) -> None:
        super().__init__(meta_keys=meta_keys)
