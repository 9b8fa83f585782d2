# Copyright (c) mmps contributors. All rights reserved.
"""Scenes of a synthetic person search dataset, before any file format."""
from dataclasses import dataclass, field
from typing import List, Optional

import cv2
import numpy as np

from mmps.structures import box_iou
from .painter import (Appearance, apply_lighting, draw_background,
                      draw_clutter, draw_occluder, draw_person)


@dataclass
class SyntheticConfig:
    """Sizes of a synthetic dataset. The defaults train in minutes on a CPU.

    Attributes:
        num_train_ids (int): Labeled training identities.
        num_test_ids (int): Test identities (one query each), disjoint from
            the training ones.
        train_appearances (tuple[int, int]): Range of the number of training
            images an identity appears in.
        test_appearances (tuple[int, int]): Range of the number of test
            images a test identity appears in (the query image included).
        persons_per_image (tuple[int, int]): Range of labeled persons per
            scene.
        passers_by (tuple[int, int]): Range of unlabeled persons per scene.
        num_distractor_images (int): Test images without test identities.
        image_size (tuple[int, int]): ``(width, height)`` of the scenes.
        person_height (tuple[float, float]): Range of person height as a
            fraction of the image height.
        occlusion_prob (float): Chance that a person is partly covered.
        num_cameras (int): Cameras (PRW format: a frame's camera; each
            appearance of an identity tends to change camera).
        seed (int): Seed of everything.
    """
    num_train_ids: int = 300
    num_test_ids: int = 50
    train_appearances: tuple = (4, 6)
    test_appearances: tuple = (3, 4)
    persons_per_image: tuple = (2, 4)
    passers_by: tuple = (0, 2)
    num_distractor_images: int = 40
    image_size: tuple = (320, 240)
    person_height: tuple = (0.35, 0.8)
    occlusion_prob: float = 0.25
    num_cameras: int = 6
    seed: int = 0


@dataclass
class SceneAnnotation:
    """One generated image.

    Attributes:
        name (str): File name without the folder.
        boxes (np.ndarray): ``x1, y1, x2, y2`` boxes, shape (N, 4), integer
            valued.
        identities (np.ndarray): Identity of each box: ``0..T-1`` training,
            ``T..T+S-1`` test, -1 a passer-by; shape (N, ).
        camera (int): Camera id, from 1.
        image (np.ndarray, optional): The BGR pixels until written.
    """
    name: str
    boxes: np.ndarray
    identities: np.ndarray
    camera: int
    image: Optional[np.ndarray] = field(default=None, repr=False)


@dataclass
class SyntheticDataset:
    """A generated dataset, in memory.

    Attributes:
        config (SyntheticConfig): The sizes it was made with.
        train (list[SceneAnnotation]): Training scenes.
        test (list[SceneAnnotation]): Test (gallery) scenes.
        queries (list[tuple[int, int, int]]): ``(identity, test scene
            index, box index)`` of each query, one per test identity.
    """
    config: SyntheticConfig
    train: List[SceneAnnotation]
    test: List[SceneAnnotation]
    queries: List[tuple]


def _pack_identities(identities: List[int], rng: np.random.Generator,
                     per_image: tuple) -> List[List[int]]:
    """Group identity appearances into scenes, no identity twice in one."""
    pending = list(identities)
    rng.shuffle(pending)
    scenes = []
    while pending:
        count = int(rng.integers(per_image[0], per_image[1] + 1))
        scene: List[int] = []
        rest = []
        for identity in pending:
            if len(scene) < count and identity not in scene:
                scene.append(identity)
            else:
                rest.append(identity)
        scenes.append(scene)
        pending = rest
    return scenes


def _layout(num_persons: int, config: SyntheticConfig, ratios: List[float],
            rng: np.random.Generator) -> np.ndarray:
    """Boxes of the persons of a scene, overlapping each other little."""
    width, height = config.image_size
    boxes = []
    for ratio in ratios[:num_persons]:
        for _ in range(50):
            h = rng.uniform(*config.person_height) * height
            w = h * ratio
            x1 = rng.uniform(0, width - w)
            y1 = rng.uniform(0, height - h)
            box = np.array([x1, y1, x1 + w, y1 + h]).round()
            if not boxes or (box_iou(box[None], np.array(boxes)) < 0.2).all():
                break
        boxes.append(box)
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def _render(scene_ids: List[int], appearances: List[Appearance],
            config: SyntheticConfig, rng: np.random.Generator, name: str,
            camera: int) -> SceneAnnotation:
    """Draw one scene with its persons, passers-by, clutter and lighting."""
    width, height = config.image_size
    num_passers = int(
        rng.integers(config.passers_by[0], config.passers_by[1] + 1))
    people = [appearances[i] for i in scene_ids
              ] + [Appearance.sample(rng) for _ in range(num_passers)]
    identities = np.array(scene_ids + [-1] * num_passers, dtype=np.int64)
    boxes = _layout(len(people), config, [p.width_ratio for p in people], rng)
    canvas = draw_background(height, width, rng)
    draw_clutter(canvas, rng, int(rng.integers(3, 9)))
    # far (higher feet) first, so that nearer persons cover farther ones
    for index in np.argsort(boxes[:, 3]):
        draw_person(
            canvas,
            boxes[index],
            people[index],
            rng,
            facing_left=bool(rng.random() < 0.5))
        if rng.random() < config.occlusion_prob:
            draw_occluder(canvas, boxes[index], rng)
    image = apply_lighting(canvas, rng)
    image = cv2.GaussianBlur(image, (3, 3), rng.uniform(0.1, 0.8))
    return SceneAnnotation(name, boxes, identities, camera, image)


def generate(config: SyntheticConfig = SyntheticConfig()) -> SyntheticDataset:
    """Generate the scenes of a synthetic person search dataset.

    Training and test identities are disjoint; both are drawn from the same
    distribution of appearances. Deterministic for ``config.seed``.

    Args:
        config (SyntheticConfig): The sizes.

    Returns:
        SyntheticDataset: The scenes, pixels included.
    """
    rng = np.random.default_rng(config.seed)
    num_ids = config.num_train_ids + config.num_test_ids
    appearances = [Appearance.sample(rng) for _ in range(num_ids)]

    def appearances_of(ids, count_range):
        slots = []
        for identity in ids:
            count = int(rng.integers(count_range[0], count_range[1] + 1))
            slots.extend([identity] * count)
        return slots

    train_ids = list(range(config.num_train_ids))
    test_ids = list(range(config.num_train_ids, num_ids))
    train_scenes = _pack_identities(
        appearances_of(train_ids, config.train_appearances), rng,
        config.persons_per_image)
    test_scenes = _pack_identities(
        appearances_of(test_ids, config.test_appearances), rng,
        config.persons_per_image)
    test_scenes += [[] for _ in range(config.num_distractor_images)]
    order = rng.permutation(len(test_scenes))
    test_scenes = [test_scenes[i] for i in order]

    train, test = [], []
    for index, scene_ids in enumerate(train_scenes):
        train.append(
            _render(scene_ids, appearances, config, rng, f'train_{index}',
                    int(rng.integers(1, config.num_cameras + 1))))
    for index, scene_ids in enumerate(test_scenes):
        test.append(
            _render(scene_ids, appearances, config, rng, f'test_{index}',
                    int(rng.integers(1, config.num_cameras + 1))))

    queries = []
    for identity in test_ids:
        holders = [(s, int(np.flatnonzero(scene.identities == identity)[0]))
                   for s, scene in enumerate(test)
                   if identity in scene.identities]
        scene_index, box_index = holders[int(rng.integers(len(holders)))]
        queries.append((identity, scene_index, box_index))
    return SyntheticDataset(config, train, test, queries)
