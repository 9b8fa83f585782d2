# Copyright (c) mmps contributors. All rights reserved.
"""Synthetic footage for the footage-search tests, and an oracle model.

The footage is drawn with the synthetic dataset's painter: persons of fixed
looks (one pose per identity) walking over a plain background, written as
MJPG videos with OpenCV. Which identity is where in every frame is known,
so the tests can check appearances against the truth.

The oracle stands in for a trained network, which the tests cannot train
on a CPU in time: it finds the persons by their difference from the
background and describes each by the mean colours of its upper and lower
half. Everything else is mmps' own: decoding and sampling, the test
pipeline, the index and its metadata, the search and the grouping.
"""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmdet.structures.bbox import get_box_tensor
from mmengine.config import Config
from mmengine.structures import InstanceData

from mmps.datasets import dataset_part_configs
from mmps.datasets.synthetic.painter import Appearance, draw_person
from mmps.testing import get_tiny_synthetic_config

WIDTH, HEIGHT, FPS = 320, 240, 10
BACKGROUND = (170, 160, 150)
#: Looks of the identities, by number
LOOKS = [Appearance.sample(np.random.default_rng(seed)) for seed in range(6)]
PERSON_W, PERSON_H = 40, 120


def person_box(x: float) -> np.ndarray:
    """The box of a person whose left edge is at ``x``, standing on y 220."""
    return np.array([x, 220 - PERSON_H, x + PERSON_W, 220], np.float64)


def render(people: Sequence[Tuple[int, float]],
           background=BACKGROUND) -> np.ndarray:
    """A frame with identities ``(identity, x)`` drawn on a plain colour."""
    canvas = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    canvas[:] = background
    for identity, x in people:
        draw_person(canvas, person_box(x), LOOKS[identity],
                    np.random.default_rng(identity), False)
    return canvas


def write_footage(path: str, script: Dict[int, List[Tuple[int, float]]],
                  num_frames: int) -> str:
    """Write a video whose frame ``f`` shows ``script.get(f, [])``."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), FPS,
                             (WIDTH, HEIGHT))
    assert writer.isOpened()
    for frame in range(num_frames):
        writer.write(render(script.get(frame, [])))
    writer.release()
    return path


def walk(identity: int, first: int, last: int, x0: float,
         speed: float) -> Dict[int, List[Tuple[int, float]]]:
    """``identity`` in frames ``first..last``, from ``x0`` at ``speed``
    pixels a frame."""
    return {
        f: [(identity, x0 + speed * (f - first))]
        for f in range(first, last + 1)
    }


def merge_scripts(*scripts) -> Dict[int, List[Tuple[int, float]]]:
    """Frames showing the persons of all scripts."""
    merged: Dict[int, List[Tuple[int, float]]] = {}
    for script in scripts:
        for frame, people in script.items():
            merged.setdefault(frame, []).extend(people)
    return merged


def describe(image: np.ndarray, box: np.ndarray, dim: int) -> np.ndarray:
    """The oracle's embedding of a box: mean BGR of its upper and lower
    half (background excluded), centred, unit-norm, zero-padded to dim."""
    x1, y1, x2, y2 = np.round(box).astype(int)
    crop = image[y1:y2, x1:x2].astype(np.float64)
    person = np.abs(crop - image[1, 1]).sum(-1) > 40
    halves = np.array_split(np.arange(len(crop)), 2)
    values = np.concatenate([
        crop[rows][person[rows]].mean(0) if person[rows].any() else np.zeros(3)
        for rows in halves
    ]) - 128
    embedding = np.zeros(dim)
    embedding[:6] = values / np.linalg.norm(values)
    return embedding


def find_persons(image: np.ndarray) -> np.ndarray:
    """Boxes of the regions that differ from the background, (n, 4)."""
    mask = (np.abs(image.astype(np.int64) - image[1, 1]).sum(-1)
            > 40).astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((9, 9), np.uint8))
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    return np.array([[x, y, x + w, y + h]
                     for x, y, w, h, area in stats[1:] if area > 200],
                    np.float64).reshape(-1, 4)


def footage_config(data_root: str) -> Config:
    """The tiny test config, its test pipeline at the footage's size."""
    cfg = get_tiny_synthetic_config(data_root)
    for part in dataset_part_configs(cfg.test_dataloader.dataset):
        for transform in part.pipeline:
            if transform.type == 'Resize':
                transform.scale = (WIDTH, HEIGHT)
    return cfg


def oracle_predict(model, dim: int = 256):
    """A ``predict`` for ``model`` that finds and describes the persons.

    Gallery images: the persons it finds. Query images (with a box): the
    box. It works in the original image's pixels, read back from the
    network input (the data preprocessor's mean and std undone, the resize
    inverted); the background is the colour of pixel (1, 1).
    """
    preprocessor = model.data_preprocessor

    def predict(batch_inputs, batch_data_samples, rescale=True):
        for inputs, sample in zip(batch_inputs, batch_data_samples):
            height, width = sample.img_shape
            image = inputs[:, :height, :width] * preprocessor.std + \
                preprocessor.mean
            image = image.flip(0).permute(1, 2, 0).numpy()  # RGB to BGR
            image = cv2.resize(
                np.clip(np.round(image), 0, 255).astype(np.uint8),
                (sample.ori_shape[1], sample.ori_shape[0]),
                interpolation=cv2.INTER_NEAREST)
            if sample.metainfo.get('is_query'):
                # query boxes are in the original image's pixels
                boxes = get_box_tensor(sample.gt_instances.bboxes).numpy()
            else:
                boxes = find_persons(image)
            sample.pred_instances = InstanceData(
                bboxes=torch.from_numpy(boxes).float(),
                scores=torch.ones(len(boxes)),
                labels=torch.zeros(len(boxes), dtype=torch.long),
                embeddings=torch.from_numpy(
                    np.array([describe(image, box, dim)
                              for box in boxes]).reshape(-1, dim)).float())
        return batch_data_samples

    return predict
