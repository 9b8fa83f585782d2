# Copyright (c) mmps contributors. All rights reserved.
import numpy as np
from mmdet.datasets.transforms import LoadAnnotations

from mmps.registry import TRANSFORMS
from ..utils import check_boxes


@TRANSFORMS.register_module()
class LoadPersonSearchAnnotations(LoadAnnotations):
    """Load boxes, labels and person ids of the instances.

    Adds ``gt_person_ids`` (np.int64 of shape (N, )) to mmdet's
    ``LoadAnnotations``. Geometric transforms leave it as it is (the boxes
    keep their order), and :class:`PackPersonSearchInputs` packs it into
    ``gt_instances.person_ids``. Boxes that are not finite or have no area
    are refused with an error naming the image and the instance (mmcv's
    RoIAlign would stop on them with an internal assertion).

    Args:
        with_person_id (bool): Whether to load the person ids.
            Defaults to True.
        **kwargs: Arguments of :class:`mmdet.datasets.transforms.
            LoadAnnotations`.
    """

    def __init__(self, with_person_id: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.with_person_id = with_person_id

    def _load_person_ids(self, results: dict) -> None:
        """Load ``person_id`` of each instance into ``gt_person_ids``."""
        instances = results.get('instances', [])
        missing = [
            i for i, inst in enumerate(instances) if 'person_id' not in inst
        ]
        if missing:
            raise KeyError(
                f'instance {missing[0]} of {results.get("img_path")} has no '
                f'`person_id`: person search datasets give one per box '
                f'(-1 for an unlabeled person)')
        results['gt_person_ids'] = np.array(
            [inst['person_id'] for inst in instances], dtype=np.int64)

    def transform(self, results: dict) -> dict:
        """Load the annotations of one sample.

        Args:
            results (dict): A ``data_list`` entry being transformed.

        Returns:
            dict: ``results`` with ``gt_bboxes``, ``gt_bboxes_labels``,
            ``gt_ignore_flags`` and ``gt_person_ids``.
        """
        results = super().transform(results)
        if self.with_bbox:
            boxes = results['gt_bboxes']
            check_boxes(
                boxes.numpy() if hasattr(boxes, 'numpy') else boxes,
                f'annotations of {results.get("img_path", "an image array")}',
                name_of='instance {}'.format)
        if self.with_person_id:
            self._load_person_ids(results)
        return results

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + \
            f', with_person_id={self.with_person_id})'
