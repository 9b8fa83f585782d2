# Copyright (c) mmps contributors. All rights reserved.
import numpy as np
from mmdet.datasets.transforms import LoadAnnotations

from mmps.registry import TRANSFORMS
from ..box_checks import check_boxes
from .person_id_labels import PERSON_IDS_IN_LABELS, encode_person_ids


@TRANSFORMS.register_module()
class LoadPersonSearchAnnotations(LoadAnnotations):
    """Load boxes, labels and person ids of the instances.

    mmdet's ``LoadAnnotations``, with the ``person_id`` of each instance
    written into its label: ``gt_bboxes_labels`` holds, per box, one
    negative code of its label and person id
    (:func:`~mmps.datasets.transforms.person_id_labels.encode_person_ids`),
    and ``results['person_ids_in_labels']`` is True. Every mmdet transform
    that drops, reorders or concatenates boxes (crops, ``FilterAnnotations``,
    ``RandomAffine``, ``Mosaic``, ``MixUp``...) indexes ``gt_bboxes_labels``
    with the boxes, so the ids follow their boxes through all of them;
    :class:`PackPersonSearchInputs` splits the codes back into
    ``gt_instances.labels`` and ``gt_instances.person_ids``. A transform
    that replaces the labels in between is reported by the packing.

    Boxes that are not finite or have no area are refused with an error
    naming the image and the instance (mmcv's RoIAlign would stop on them
    with an internal assertion).

    Args:
        with_person_id (bool): Whether to load the person ids (and write
            them into the labels, which needs ``with_label=True``).
            Defaults to True.
        **kwargs: Arguments of :class:`mmdet.datasets.transforms.
            LoadAnnotations`.
    """

    def __init__(self, with_person_id: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        if with_person_id and not self.with_label:
            raise ValueError(
                'LoadPersonSearchAnnotations carries the person ids in the '
                'labels: with_person_id=True needs with_label=True')
        self.with_person_id = with_person_id

    def _load_person_ids(self, results: dict) -> None:
        """Write ``person_id`` of each instance into ``gt_bboxes_labels``."""
        instances = results.get('instances', [])
        missing = [
            i for i, inst in enumerate(instances) if 'person_id' not in inst
        ]
        if missing:
            raise KeyError(
                f'instance {missing[0]} of {results.get("img_path")} has no '
                f'`person_id`: person search datasets give one per box '
                f'(-1 for an unlabeled person)')
        person_ids = np.array([inst['person_id'] for inst in instances],
                              dtype=np.int64)
        results['gt_bboxes_labels'] = encode_person_ids(
            results['gt_bboxes_labels'], person_ids,
            f'annotations of {results.get("img_path", "an image array")}')
        results[PERSON_IDS_IN_LABELS] = True

    def transform(self, results: dict) -> dict:
        """Load the annotations of one sample.

        Args:
            results (dict): A ``data_list`` entry being transformed.

        Returns:
            dict: ``results`` with ``gt_bboxes``, ``gt_bboxes_labels`` (with
            the person ids in them), ``gt_ignore_flags`` and
            ``person_ids_in_labels``.
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
