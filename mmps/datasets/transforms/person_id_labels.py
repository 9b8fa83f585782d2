# Copyright (c) mmps contributors. All rights reserved.
"""Person ids carried inside the box labels between loading and packing.

mmdet's transforms that drop, reorder or concatenate boxes (``RandomCrop``,
``FilterAnnotations``, ``MinIoURandomCrop``, ``RandomAffine``,
``RandomShift``, ``RandomCenterCropPad``, ``RandomErasing``, ``Albu``,
``Mosaic``, ``MixUp``, ``CopyPaste`` and their cached variants) index
``gt_bboxes``, ``gt_bboxes_labels`` and ``gt_ignore_flags`` together, and no
other key: a ``gt_person_ids`` beside them would keep its order while the
boxes change (``gt_instances_ids`` is followed by ``RandomCrop`` only). So
:class:`LoadPersonSearchAnnotations` writes each box's label and person id
into one negative code in ``gt_bboxes_labels``, and
:class:`PackPersonSearchInputs` splits the codes back into labels and ids.
A code is ``-1 - (label + LABEL_SLOTS * (person_id - UNLABELED_ID))``:
negative, so that a detector given codes instead of labels fails (its
classification loss refuses a negative class) rather than learning from
them, and a label that is not a code tells the packing that a transform
replaced the labels.
"""
from typing import Tuple

import numpy as np

from mmps.structures import UNLABELED_ID

#: Number of class labels a code can carry (labels are ``0..LABEL_SLOTS-1``).
LABEL_SLOTS = 1 << 16
#: Largest person id a code can carry without overflowing int64.
MAX_PERSON_ID = (np.iinfo(np.int64).max - LABEL_SLOTS) // LABEL_SLOTS - 1
#: Key of ``results`` that is True while ``gt_bboxes_labels`` holds codes.
PERSON_IDS_IN_LABELS = 'person_ids_in_labels'


def encode_person_ids(labels: np.ndarray, person_ids: np.ndarray,
                      where: str) -> np.ndarray:
    """Combine each box's label and person id into one negative code.

    Args:
        labels (np.ndarray): Class label of each box, ``0..LABEL_SLOTS-1``,
            shape (N, ).
        person_ids (np.ndarray): Person id of each box, ``UNLABELED_ID`` or
            ``0..MAX_PERSON_ID``, shape (N, ).
        where (str): The sample they come from, for the errors.

    Returns:
        np.ndarray: The codes, int64 of shape (N, ), all negative.

    Raises:
        ValueError: If the shapes differ or a value is out of range.
    """
    labels = np.asarray(labels, dtype=np.int64)
    person_ids = np.asarray(person_ids, dtype=np.int64)
    if labels.ndim != 1 or labels.shape != person_ids.shape:
        raise ValueError(f'{where}: {labels.shape} labels and '
                         f'{person_ids.shape} person ids, one of each per box '
                         f'was expected')
    for name, values, low, high in (('label', labels, 0, LABEL_SLOTS - 1),
                                    ('person_id', person_ids, UNLABELED_ID,
                                     MAX_PERSON_ID)):
        bad = np.flatnonzero((values < low) | (values > high))
        if len(bad):
            raise ValueError(f'{where}: instance {bad[0]} has {name} '
                             f'{values[bad[0]]}, expected {low}..{high}')
    return -1 - (labels + LABEL_SLOTS * (person_ids - UNLABELED_ID))


def decode_person_ids(codes: np.ndarray,
                      where: str) -> Tuple[np.ndarray, np.ndarray]:
    """Split codes of :func:`encode_person_ids` into labels and person ids.

    Args:
        codes (np.ndarray): Codes of the boxes, shape (N, ).
        where (str): The sample they come from, for the errors.

    Returns:
        tuple[np.ndarray, np.ndarray]: The labels and the person ids, int64
        of shape (N, ) each.

    Raises:
        ValueError: If a value is not a code (a transform replaced the
            labels, or boxes came from a sample that was not loaded by
            ``LoadPersonSearchAnnotations``).
    """
    codes = np.asarray(codes)
    if codes.ndim != 1 or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f'{where}: gt_bboxes_labels must be integers of '
                         f'shape (N, ), got {codes.dtype} of shape '
                         f'{codes.shape}')
    not_codes = np.flatnonzero(codes >= 0)
    if len(not_codes):
        raise ValueError(
            f'{where}: gt_bboxes_labels[{not_codes[0]}] is '
            f'{codes[not_codes[0]]}, not a label carrying a person id. '
            f'LoadPersonSearchAnnotations writes the person ids into the '
            f'labels so that they follow their boxes; a transform after it '
            f'replaced the labels, or mixed in boxes of a sample it did not '
            f'load (e.g. Mosaic or MixUp on a dataset whose pipeline lacks '
            f'LoadPersonSearchAnnotations)')
    combined = -1 - codes.astype(np.int64)
    return combined % LABEL_SLOTS, combined // LABEL_SLOTS + UNLABELED_ID
