# Copyright (c) mmps contributors. All rights reserved.
"""A validation split carved out of the training identities.

The person search benchmarks have a training set and a test set only.
Choosing a checkpoint or a setting on the test set makes the reported
number a selected one, so mmps validates on a fixed, seeded subset of the
training identities instead:

- the **validation identities** are ``num_ids`` identities drawn with
  ``seed`` among the labeled training identities that appear in at least
  two training images (each then has a query and a ground truth);
- each has one **query**: its first box in the training list (the first
  image that shows it, in the dataset's order);
- the **validation gallery** is every training image that shows a
  validation identity, plus ``num_distractor_images`` other training images
  drawn with the same generator; it is scored as PRW's protocol scores a
  gallery (every gallery image but the query's own). In it, the validation
  identities keep their ids and every other box is unlabeled;
- with ``holdout=True`` the training split **holds the validation
  identities out**: their boxes stay (detection still learns them) but
  become unlabeled, and the remaining identities are numbered
  ``0..L-V-1`` in their order, so that the OIM lookup table has ``L - V``
  rows. Without it, the validation identities are also trained on and the
  validation numbers show how well training identities are found, not how
  well new ones are.
"""
import copy
from dataclasses import dataclass
from typing import List, Tuple, Union

import numpy as np

from mmps.structures import UNLABELED_ID

#: The numbers that define a validation split, with their defaults.
VAL_SPLIT_DEFAULTS = dict(num_ids=0.05, num_distractor_images=0.05, seed=0)


@dataclass
class ValidationSplit:
    """Which training boxes and images form the validation split.

    Attributes:
        person_ids (np.ndarray): The validation identities (training ids),
            sorted, shape (V, ).
        query_images (np.ndarray): Index in the training list of the image
            of each identity's query, shape (V, ).
        query_instances (np.ndarray): Index of the query box among the
            instances of that image, shape (V, ).
        gallery_images (np.ndarray): Indices of the gallery images in the
            training list, sorted, shape (G, ).
    """
    person_ids: np.ndarray
    query_images: np.ndarray
    query_instances: np.ndarray
    gallery_images: np.ndarray


def _count(value: Union[int, float], total: int, what: str) -> int:
    """``value`` itself if an int, else that fraction of ``total``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f'{what} must be an int (a count) or a float in '
                        f'(0, 1] (a fraction), got {value!r}')
    if isinstance(value, float):
        if not 0 < value <= 1:
            raise ValueError(f'{what} as a fraction must be in (0, 1], got '
                             f'{value}')
        return max(1, int(round(value * total))) if total else 0
    if value < 0:
        raise ValueError(f'{what} must be >= 0, got {value}')
    return value


def _flat_instances(data_list: List[dict]) -> Tuple[np.ndarray, ...]:
    """Image index, index within the image and person id of every
    non-ignored box, in the order of the list."""
    images, positions, person_ids = [], [], []
    for image, entry in enumerate(data_list):
        for position, instance in enumerate(entry['instances']):
            if instance.get('ignore_flag', 0):
                continue
            images.append(image)
            positions.append(position)
            person_ids.append(instance['person_id'])
    return tuple(
        np.asarray(values, dtype=np.int64)
        for values in (images, positions, person_ids))


def choose_validation_split(
        data_list: List[dict],
        num_ids: Union[int, float] = 0.05,
        num_distractor_images: Union[int, float] = 0.05,
        seed: int = 0,
        where: str = 'the training data') -> ValidationSplit:
    """Draw the validation identities, queries and gallery of a training
    list.

    Args:
        data_list (list[dict]): The training entries (``instances`` with
            ``person_id``: training ids ``>= 0`` or -1).
        num_ids (int | float): Validation identities: a count, or a
            fraction of the identities seen in two or more images.
            Defaults to 0.05.
        num_distractor_images (int | float): Gallery images without a
            validation identity: a count, or a fraction of those images.
            Defaults to 0.05.
        seed (int): Seed of the draws. Defaults to 0.
        where (str): What the list was read from, for errors.

    Returns:
        ValidationSplit: The split.
    """
    images, positions, person_ids = _flat_instances(data_list)
    labeled = person_ids >= 0
    # distinct (identity, image) pairs: an identity twice in one image
    # still has a single image
    pairs = np.unique(
        np.stack([person_ids[labeled], images[labeled]], axis=1), axis=0)
    ids, image_counts = np.unique(pairs[:, 0], return_counts=True)
    eligible = ids[image_counts >= 2]
    wanted = _count(num_ids, len(eligible), 'val_split.num_ids')
    if wanted < 1 or wanted > len(eligible):
        raise ValueError(
            f'{where}: the validation split asks for {wanted} identities, '
            f'but {len(eligible)} identities appear in two or more training '
            f'images (a query and its ground truth); choose '
            f'val_split.num_ids between 1 and {len(eligible)}')
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(eligible, size=wanted, replace=False))
    is_chosen = labeled & np.isin(person_ids, chosen)
    # the first box of each identity in list order is its query
    first = np.unique(person_ids[is_chosen], return_index=True)[1]
    query_images = images[is_chosen][first]
    query_instances = positions[is_chosen][first]
    shown = np.unique(images[is_chosen])
    others = np.setdiff1d(np.arange(len(data_list)), shown)
    num_distractors = _count(num_distractor_images, len(others),
                             'val_split.num_distractor_images')
    if num_distractors > len(others):
        raise ValueError(
            f'{where}: the validation split asks for {num_distractors} '
            f'distractor images, but only {len(others)} training images '
            f'show no validation identity')
    distractors = rng.choice(others, size=num_distractors, replace=False)
    return ValidationSplit(
        person_ids=chosen,
        query_images=query_images,
        query_instances=query_instances,
        gallery_images=np.union1d(shown, distractors))


def _with_person_ids(entry: dict, person_ids: np.ndarray, img_id: int) -> dict:
    """A copy of an entry with new person ids and a new index."""
    entry = copy.deepcopy(entry)
    entry['img_id'] = img_id
    for instance, person_id in zip(entry['instances'], person_ids):
        instance['person_id'] = int(person_id)
    return entry


def _person_ids(entry: dict) -> np.ndarray:
    """The person ids of an entry's instances, shape (N, )."""
    return np.asarray([i['person_id'] for i in entry['instances']],
                      dtype=np.int64)


def holdout_entries(data_list: List[dict],
                    split: ValidationSplit) -> Tuple[List[dict], int]:
    """The training entries without the validation identities' labels.

    Args:
        data_list (list[dict]): The training entries.
        split (ValidationSplit): The validation split of that list.

    Returns:
        tuple[list[dict], int]: The entries, whose validation persons are
        unlabeled and other identities renumbered ``0..L'-1`` in their
        order, and ``L'``.
    """
    kept = np.unique(
        np.concatenate([_person_ids(e)
                        for e in data_list] + [np.zeros(0, dtype=np.int64)]))
    kept = np.setdiff1d(kept[kept >= 0], split.person_ids)
    entries = []
    for img_id, entry in enumerate(data_list):
        person_ids = _person_ids(entry)
        renumbered = np.searchsorted(kept, person_ids)
        in_kept = (person_ids >= 0) & np.isin(person_ids, kept)
        entries.append(
            _with_person_ids(entry, np.where(in_kept, renumbered,
                                             UNLABELED_ID), img_id))
    return entries, len(kept)


def gallery_entries(data_list: List[dict],
                    split: ValidationSplit) -> List[dict]:
    """The validation gallery: only the validation identities labeled.

    Args:
        data_list (list[dict]): The training entries.
        split (ValidationSplit): The validation split of that list.

    Returns:
        list[dict]: One entry per gallery image, in list order.
    """
    entries = []
    for img_id, image in enumerate(split.gallery_images):
        person_ids = _person_ids(data_list[image])
        entries.append(
            _with_person_ids(
                data_list[image],
                np.where(
                    np.isin(person_ids, split.person_ids), person_ids,
                    UNLABELED_ID), img_id))
    return entries


def query_entries(data_list: List[dict], split: ValidationSplit) -> List[dict]:
    """The validation queries, one per validation identity.

    Args:
        data_list (list[dict]): The training entries.
        split (ValidationSplit): The validation split of that list.

    Returns:
        list[dict]: Entries with the query box as the only instance,
        ``is_query=True`` and ``query_index``, in the order of
        ``split.person_ids``.
    """
    entries = []
    for index, (image, position) in enumerate(
            zip(split.query_images, split.query_instances)):
        entry = copy.deepcopy(data_list[image])
        entry.update(
            img_id=index,
            instances=[entry['instances'][position]],
            is_query=True,
            query_index=index)
        entries.append(entry)
    return entries
