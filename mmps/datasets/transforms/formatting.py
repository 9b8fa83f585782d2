# Copyright (c) mmps contributors. All rights reserved.
import numpy as np
from mmdet.datasets.transforms import PackDetInputs

from mmps.registry import TRANSFORMS
from .person_id_labels import PERSON_IDS_IN_LABELS, decode_person_ids

#: Keys with one value per box, checked against ``gt_bboxes`` when packed.
PER_BOX_KEYS = ('gt_bboxes_labels', 'gt_ignore_flags', 'gt_person_ids')


@TRANSFORMS.register_module()
class PackPersonSearchInputs(PackDetInputs):
    """Pack a sample for person search models.

    mmdet's ``PackDetInputs`` with the person ids packed into
    ``gt_instances.person_ids`` (and ``ignored_instances``), and the query
    and camera keys kept in the metainfo.

    The ids come from the labels, where
    :class:`LoadPersonSearchAnnotations` wrote them so that they follow
    their boxes through every mmdet transform (see
    :mod:`mmps.datasets.transforms.person_id_labels`): the codes are split
    back into the labels and the ids, and a label that is not a code is an
    error naming the likely transform problem. A sample that did not go
    through ``LoadPersonSearchAnnotations`` may give its ids as
    ``gt_person_ids`` (np.int64, (N, )); such ids only follow transforms
    that keep the boxes as they are. Before packing, each per-box key
    (labels, ignore flags, person ids) must have one value per box: a
    ``ValueError`` names the key otherwise, so that ids can never be
    truncated or shifted silently.

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

    def transform(self, results: dict) -> dict:
        """Take the person ids out of the labels, check and pack a sample.

        Args:
            results (dict): Result dict from the data pipeline.

        Returns:
            dict: ``inputs`` and ``data_samples``, as ``PackDetInputs``
            gives them, with ``person_ids`` in ``gt_instances`` and
            ``ignored_instances``.

        Raises:
            ValueError: If the labels are not the codes of
                ``LoadPersonSearchAnnotations``, or a per-box key does not
                have one value per box.
        """
        where = results.get('img_path') or 'a sample'
        results = dict(results)
        if results.pop(PERSON_IDS_IN_LABELS, False):
            if 'gt_person_ids' in results:
                raise ValueError(
                    f'{where}: gt_person_ids was set by a transform after '
                    f'LoadPersonSearchAnnotations, which carries the person '
                    f'ids in the labels: remove one of the two')
            results['gt_bboxes_labels'], results['gt_person_ids'] = \
                decode_person_ids(results['gt_bboxes_labels'], where)
        elif np.any(np.asarray(results.get('gt_bboxes_labels', [])) < 0):
            raise ValueError(
                f'{where}: gt_bboxes_labels has negative values, the person '
                f'ids of LoadPersonSearchAnnotations, but the sample was not '
                f'loaded by it: boxes of another sample were mixed in (e.g. '
                f'by Mosaic or MixUp) after a pipeline without it')
        self._check_one_value_per_box(results, where)
        return super().transform(results)

    @staticmethod
    def _check_one_value_per_box(results: dict, where: str) -> None:
        """Refuse per-box keys whose length is not the number of boxes."""
        if results.get('gt_bboxes', None) is None:
            return
        num_boxes = len(results['gt_bboxes'])
        for key in PER_BOX_KEYS:
            values = results.get(key, None)
            if values is None or len(values) == num_boxes:
                continue
            advice = (' Load person ids with LoadPersonSearchAnnotations '
                      '(they then follow the boxes through mmdet\'s '
                      'transforms) rather than setting gt_person_ids.'
                      if key == 'gt_person_ids' else '')
            raise ValueError(
                f'{where}: {len(values)} values of {key} for {num_boxes} '
                f'boxes: a transform dropped or added boxes '
                f'without indexing {key}.{advice}')
