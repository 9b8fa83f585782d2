# Copyright (c) mmps contributors. All rights reserved.
import math
from typing import Tuple

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
    """Resize an image as torchvision's detection models do.

    NAE and SeqNet resize inside the model (``GeneralizedRCNNTransform``):
    the float image is resized with bilinear ``F.interpolate``
    (``align_corners=False``) to :func:`torchvision_resize_shape`. mmdet's
    ``Resize`` uses cv2 on the uint8 image, rounds the result to integers
    and rounds the size to the nearest pixel, which moves every pixel
    value and, for some image sizes, the size itself. This transform does
    what torchvision does and leaves a float32 image, so a model converted
    from those code bases sees the input it was trained on. (torchvision
    normalises before resizing; both steps are linear, so normalising
    after, in the data preprocessor, gives the same input up to float
    rounding.)

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
    """

    def __init__(self, min_size: int = 800, max_size: int = 1333) -> None:
        self.min_size = min_size
        self.max_size = max_size

    @autocast_box_type()
    def transform(self, results: dict) -> dict:
        """Resize the image and the boxes of one sample.

        Args:
            results (dict): Result dict with ``img`` of shape (H, W, C).

        Returns:
            dict: The resized sample.
        """
        img = results['img']
        height, width = img.shape[:2]
        new_height, new_width = torchvision_resize_shape(
            height, width, self.min_size, self.max_size)
        tensor = torch.from_numpy(np.ascontiguousarray(
            img, dtype=np.float32)).reshape(height, width,
                                            -1).permute(2, 0, 1)[None]
        resized = F.interpolate(
            tensor,
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
        return (f'{self.__class__.__name__}(min_size={self.min_size}, '
                f'max_size={self.max_size})')
