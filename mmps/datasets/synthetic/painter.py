# Copyright (c) mmps contributors. All rights reserved.
"""Drawing of synthetic scenes: backgrounds, clutter and persons."""
from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

Color = Tuple[int, int, int]

#: Patterns of the upper garment.
PATTERNS = ('solid', 'hstripes', 'vstripes', 'checker', 'split')
#: Accessories a person may carry.
ACCESSORIES = ('none', 'backpack', 'hat', 'bag')


def random_color(
    rng: np.random.Generator,
    saturation: Tuple[float, float] = (0.35, 1.0),
    value: Tuple[float, float] = (0.25, 1.0)
) -> Color:
    """A random BGR color with saturation and value in the given ranges."""
    hsv = np.array([[[
        rng.uniform(0, 180),
        rng.uniform(*saturation) * 255,
        rng.uniform(*value) * 255
    ]]],
                   dtype=np.float32).astype(np.uint8)
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


@dataclass(frozen=True)
class Appearance:
    """What makes one identity look like itself.

    Attributes:
        upper (Color): Main color of the upper garment (BGR).
        upper_second (Color): Second color of its pattern.
        pattern (str): One of :data:`PATTERNS`.
        lower (Color): Color of the trousers or skirt.
        skin (Color): Skin tone.
        hair (Color): Hair color.
        accessory (str): One of :data:`ACCESSORIES`.
        accessory_color (Color): Its color.
        width_ratio (float): Body width over height.
        leg_ratio (float): Leg length over height.
    """
    upper: Color
    upper_second: Color
    pattern: str
    lower: Color
    skin: Color
    hair: Color
    accessory: str
    accessory_color: Color
    width_ratio: float
    leg_ratio: float

    @classmethod
    def sample(cls, rng: np.random.Generator) -> 'Appearance':
        """Draw a random identity."""
        skin_value = rng.uniform(0.35, 0.95)
        skin = cv2.cvtColor(
            np.array([[[
                rng.uniform(5, 20),
                rng.uniform(0.3, 0.6) * 255, skin_value * 255
            ]]],
                     dtype=np.float32).astype(np.uint8), cv2.COLOR_HSV2BGR)[0,
                                                                            0]
        return cls(
            upper=random_color(rng),
            upper_second=random_color(rng),
            pattern=str(rng.choice(PATTERNS)),
            lower=random_color(rng, value=(0.15, 0.9)),
            skin=tuple(int(c) for c in skin),
            hair=random_color(rng, saturation=(0.0, 0.6), value=(0.05, 0.6)),
            accessory=str(rng.choice(ACCESSORIES)),
            accessory_color=random_color(rng),
            width_ratio=float(rng.uniform(0.30, 0.44)),
            leg_ratio=float(rng.uniform(0.40, 0.50)))


def _shade(color: Color, factor: float) -> Color:
    """A color scaled by a lighting factor."""
    return tuple(int(np.clip(c * factor, 0, 255)) for c in color)


def _fill_pattern(canvas: np.ndarray, x1: int, y1: int, x2: int, y2: int,
                  appearance: Appearance) -> None:
    """Paint the upper garment with its pattern inside a rectangle."""
    cv2.rectangle(canvas, (x1, y1), (x2, y2), appearance.upper, -1)
    width, height = x2 - x1, y2 - y1
    second = appearance.upper_second
    if appearance.pattern == 'hstripes':
        step = max(2, height // 5)
        for y in range(y1, y2, 2 * step):
            cv2.rectangle(canvas, (x1, y), (x2, min(y + step - 1, y2)), second,
                          -1)
    elif appearance.pattern == 'vstripes':
        step = max(2, width // 5)
        for x in range(x1, x2, 2 * step):
            cv2.rectangle(canvas, (x, y1), (min(x + step - 1, x2), y2), second,
                          -1)
    elif appearance.pattern == 'checker':
        step = max(2, min(width, height) // 3)
        for row, y in enumerate(range(y1, y2, step)):
            for col, x in enumerate(range(x1, x2, step)):
                if (row + col) % 2:
                    cv2.rectangle(
                        canvas, (x, y),
                        (min(x + step - 1, x2), min(y + step - 1, y2)), second,
                        -1)
    elif appearance.pattern == 'split':
        cv2.rectangle(canvas, (x1, y1), (x2, y1 + height // 2), second, -1)


def draw_person(canvas: np.ndarray, box: np.ndarray, appearance: Appearance,
                rng: np.random.Generator, facing_left: bool) -> None:
    """Draw a person filling ``box`` (``x1, y1, x2, y2``) on ``canvas``.

    Args:
        canvas (np.ndarray): BGR image, modified in place.
        box (np.ndarray): The person's box.
        appearance (Appearance): The identity's look.
        rng (np.random.Generator): Source of the pose variation.
        facing_left (bool): Mirror side accessories.
    """
    x1, y1, x2, y2 = [float(v) for v in box]
    height, width = y2 - y1, x2 - x1
    center = (x1 + x2) / 2
    light = rng.uniform(0.8, 1.2)

    head_h = 0.14 * height
    head_w = 0.55 * width
    leg_top = y2 - appearance.leg_ratio * height
    torso_top = y1 + head_h * 1.05
    shoulder = width * 0.5

    def pt(x, y):
        return int(round(x)), int(round(y))

    # legs: two rectangles with a random stride
    stride = rng.uniform(0.0, 0.18) * width
    leg_w = width * 0.22
    for side in (-1, 1):
        offset = side * (width * 0.14 + stride / 2)
        cv2.rectangle(canvas, pt(center + offset - leg_w / 2, leg_top),
                      pt(center + offset + leg_w / 2, y2 - 0.03 * height),
                      _shade(appearance.lower, light), -1)
        cv2.rectangle(canvas,
                      pt(center + offset - leg_w / 2, y2 - 0.03 * height),
                      pt(center + offset + leg_w / 1.4, y2), (25, 25, 25), -1)
    # arms
    arm_w = width * 0.13
    swing = rng.uniform(-0.08, 0.08) * height
    for side in (-1, 1):
        ax = center + side * (shoulder - arm_w / 2)
        cv2.rectangle(canvas, pt(ax - arm_w / 2, torso_top),
                      pt(ax + arm_w / 2, leg_top + swing * side),
                      _shade(appearance.upper, light * 0.85), -1)
        cv2.circle(canvas, pt(ax, leg_top + swing * side + arm_w * 0.4),
                   max(1, int(arm_w * 0.45)), appearance.skin, -1)
    # torso with its pattern
    torso = [
        int(round(v))
        for v in (center - shoulder + arm_w, torso_top,
                  center + shoulder - arm_w, leg_top + 0.02 * height)
    ]
    _fill_pattern(canvas, *torso, appearance)
    # accessories
    color = _shade(appearance.accessory_color, light)
    side = -1 if facing_left else 1
    if appearance.accessory == 'backpack':
        cv2.rectangle(
            canvas, pt(center + side * shoulder * 0.55, torso_top),
            pt(center + side * shoulder * 1.0,
               (torso_top + leg_top) / 2 + 0.05 * height), color, -1)
    elif appearance.accessory == 'bag':
        cv2.rectangle(
            canvas, pt(center + side * shoulder * 0.7,
                       leg_top - 0.06 * height),
            pt(center + side * shoulder, leg_top + 0.1 * height), color, -1)
    # head and hair
    head_center = pt(center, y1 + head_h / 2 + 0.01 * height)
    axes = (max(1, int(head_w / 2)), max(1, int(head_h / 2)))
    cv2.ellipse(canvas, head_center, axes, 0, 0, 360, appearance.skin, -1)
    cv2.ellipse(canvas, head_center, axes, 0, 180, 360, appearance.hair, -1)
    if appearance.accessory == 'hat':
        cv2.rectangle(canvas, pt(center - head_w * 0.6, y1),
                      pt(center + head_w * 0.6, y1 + head_h * 0.3), color, -1)


def draw_background(height: int, width: int,
                    rng: np.random.Generator) -> np.ndarray:
    """A street-like background: two-tone gradient, floor, texture."""
    top, bottom = (
        np.array(random_color(rng, (0.0, 0.4), (0.3, 0.9)), dtype=np.float32)
        for _ in range(2))
    ramp = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    canvas = top * (1 - ramp) + bottom * ramp
    canvas = np.repeat(canvas, width, axis=1)
    horizon = int(height * rng.uniform(0.3, 0.55))
    canvas[horizon:] *= rng.uniform(0.6, 0.9)
    canvas += rng.normal(0, 6, size=canvas.shape).astype(np.float32)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def draw_clutter(canvas: np.ndarray, rng: np.random.Generator,
                 count: int) -> None:
    """Non-person objects: boxes, poles, bins, windows."""
    height, width = canvas.shape[:2]
    for _ in range(count):
        color = random_color(rng, (0.0, 0.8), (0.2, 0.95))
        kind = rng.integers(3)
        x = int(rng.uniform(0, width))
        y = int(rng.uniform(0, height))
        if kind == 0:
            w, h = rng.uniform(0.05, 0.25) * width, rng.uniform(0.05,
                                                                0.2) * height
            cv2.rectangle(canvas, (x, y), (int(x + w), int(y + h)), color, -1)
        elif kind == 1:
            w = max(2, int(rng.uniform(0.01, 0.03) * width))
            cv2.rectangle(canvas, (x, 0), (x + w, y + int(0.3 * height)),
                          color, -1)
        else:
            cv2.ellipse(canvas, (x, y),
                        (int(rng.uniform(0.02, 0.1) * width),
                         int(rng.uniform(0.02, 0.08) * height)), 0, 0, 360,
                        color, -1)


def draw_occluder(canvas: np.ndarray, box: np.ndarray,
                  rng: np.random.Generator) -> None:
    """Cover part of a person's box (at most 40% of its height or width)."""
    x1, y1, x2, y2 = [float(v) for v in box]
    width, height = x2 - x1, y2 - y1
    color = random_color(rng, (0.0, 0.7), (0.2, 0.9))
    if rng.random() < 0.6:  # from below, like a car or a fence
        top = y2 - rng.uniform(0.2, 0.4) * height
        cv2.rectangle(canvas, (int(x1 - 0.3 * width), int(top)),
                      (int(x2 + 0.3 * width), int(y2 + 2)), color, -1)
    else:  # from a side, like a pole or a sign
        cover = rng.uniform(0.2, 0.4) * width
        if rng.random() < 0.5:
            cv2.rectangle(canvas, (int(x1 - 2), int(y1 - 0.1 * height)),
                          (int(x1 + cover), int(y2)), color, -1)
        else:
            cv2.rectangle(canvas, (int(x2 - cover), int(y1 - 0.1 * height)),
                          (int(x2 + 2), int(y2)), color, -1)


def apply_lighting(canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Global brightness, contrast and color cast, plus sensor noise."""
    image = canvas.astype(np.float32)
    gain = rng.uniform(0.65, 1.3)
    cast = rng.uniform(0.9, 1.1, size=3).astype(np.float32)
    mean = image.mean()
    image = (image - mean) * rng.uniform(0.8, 1.15) + mean
    image = image * gain * cast
    image += rng.normal(0, 4, size=image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)
