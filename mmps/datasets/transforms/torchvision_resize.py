# Copyright (c) mmps contributors. All rights reserved.
import math
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmdet.structures.bbox import autocast_box_type

from mmps.registry import TRANSFORMS


def torchvision_resize_shape(height: int, width: int, min_size: int,
                             max_size: int) -> Tuple[int, int]:
    """Output size of torchvision's ``GeneralizedRCNNTransform`` resize.

    The scale is ``min(min_size / shorter side, max_size / longer side)``
    and each side is rounded down, as ``F.interpolate`` does with a scale
    factor (mmdet's ``Resize`` rounds to the nearest pixel instead).

    Args:
        height (int): Image height.
        width (int): Image width.
        min_size (int): Target of the shorter side.
        max_size (int): Limit of the longer side.

    Returns:
        tuple[int, int]: ``(new_height, new_width)``.
    """
    scale = min(min_size / min(height, width), max_size / max(height, width))
    return math.floor(height * scale), math.floor(width * scale)


@TRANSFORMS.register_module()
class TorchvisionResize(BaseTransform):
    """Normalise and resize an image as torchvision's detection models do.

    NAE and SeqNet prepare images inside the model
    (``GeneralizedRCNNTransform``): the image, scaled to [0, 1]
    (``to_tensor``), is normalised with ``mean`` and ``std``, then resized
    with bilinear ``F.interpolate`` (``align_corners=False``) to
    :func:`torchvision_resize_shape`. mmdet's ``Resize`` uses cv2 on the
    uint8 image, rounds the result to integers and rounds the size to the
    nearest pixel, which moves every pixel value and, for some image sizes,
    the size itself. This transform does what torchvision does, in its
    order: normalising after resizing gives the same input only up to
    float rounding (about 1e-6), which a deep network amplifies to
    differences of 1e-2 px in its boxes. With ``mean`` and ``std`` the
    image leaves normalised (RGB with ``to_rgb``), float32, and the data
    preprocessor must only pad (mean 0, std 1, no channel swap); without
    them, the [0, 255] image is resized and the preprocessor normalises.

    Boxes are scaled by ``(new_width / width, new_height / height)``, as
    torchvision scales them, and not clipped.

    Required Keys:

    - img
    - gt_bboxes (optional)

    Modified Keys:

    - img (float32)
    - img_shape
    - gt_bboxes

    Added Keys:

    - scale_factor
    - keep_ratio

    Args:
        min_size (int): Target of the shorter side. Defaults to 800.
        max_size (int): Limit of the longer side. Defaults to 1333.
        mean (Sequence[float], optional): Per-channel mean of the [0, 1]
            image (of the RGB channels with ``to_rgb``), e.g. ImageNet's
            ``(0.485, 0.456, 0.406)``. Defaults to None (no normalisation).
        std (Sequence[float], optional): Per-channel standard deviation,
            e.g. ``(0.229, 0.224, 0.225)``. Defaults to None.
        to_rgb (bool): Reverse the channels of the (BGR) image first.
            Defaults to False.
    """

    def __init__(self,
                 min_size: int = 800,
                 max_size: int = 1333,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 to_rgb: bool = False) -> None:
        if (mean is None) != (std is None):
            raise ValueError('TorchvisionResize normalises with mean and std '
                             'together: give both or neither')
        self.min_size = min_size
        self.max_size = max_size
        self.mean = None if mean is None else torch.tensor(
            mean, dtype=torch.float32)[:, None, None]
        self.std = None if std is None else torch.tensor(
            std, dtype=torch.float32)[:, None, None]
        self.to_rgb = to_rgb

    @autocast_box_type()
    def transform(self, results: dict) -> dict:
        """Normalise and resize the image and the boxes of one sample.

        Args:
            results (dict): Result dict with ``img`` of shape (H, W, C).

        Returns:
            dict: The resized sample.
        """
        img = results['img']
        height, width = img.shape[:2]
        new_height, new_width = torchvision_resize_shape(
            height, width, self.min_size, self.max_size)
        if self.to_rgb:
            img = img[..., ::-1]
        tensor = torch.from_numpy(np.ascontiguousarray(img)).reshape(
            height, width, -1).permute(2, 0, 1).to(torch.float32)
        if self.mean is not None:
            # torchvision's to_tensor, then its normalize
            tensor = (tensor.div(255) - self.mean) / self.std
        resized = F.interpolate(
            tensor[None],
            size=(new_height, new_width),
            mode='bilinear',
            align_corners=False)[0].permute(1, 2, 0).numpy()
        results['img'] = resized if img.ndim == 3 else resized[..., 0]
        results['img_shape'] = (new_height, new_width)
        results['scale_factor'] = (new_width / width, new_height / height)
        results['keep_ratio'] = True
        if results.get('gt_bboxes', None) is not None:
            results['gt_bboxes'].rescale_(results['scale_factor'])
        return results

    def __repr__(self) -> str:
        normalise = '' if self.mean is None else (
            f', mean={self.mean.flatten().tolist()}, '
            f'std={self.std.flatten().tolist()}')
        return (f'{self.__class__.__name__}(min_size={self.min_size}, '
                f'max_size={self.max_size}{normalise}, '
                f'to_rgb={self.to_rgb})')
