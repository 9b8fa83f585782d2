# Copyright (c) mmps contributors. All rights reserved.
from typing import Optional, Tuple, Union

import torch
from mmdet.models.task_modules.prior_generators import AnchorGenerator
from torch import Tensor

from mmps.registry import TASK_UTILS


@TASK_UTILS.register_module()
class TorchvisionAnchorGenerator(AnchorGenerator):
    """Anchors as torchvision's ``AnchorGenerator`` makes them.

    torchvision (and so NAE and SeqNet) centres the anchors of a feature map
    cell on its top-left corner, as mmdet does with ``center_offset=0``, but
    rounds the corners of the base anchors to integers: with ratio 0.5 a
    32-pixel anchor is ``[-23, -11, 23, 11]`` rather than mmdet's
    ``[-22.63, -11.31, 22.63, 11.31]``. Order (ratios outer, scales inner,
    then locations row by row) is mmdet's with ``scale_major=True``.

    Args:
        strides (list[int]): Strides of the feature maps.
        ratios (list[float]): Height / width ratios.
        scales (list[float]): Anchor sizes in units of the stride (or of
            ``base_sizes``).
        **kwargs: Other arguments of mmdet's ``AnchorGenerator``;
            ``center_offset`` and ``centers`` must stay unset.
    """

    def __init__(self, strides, ratios, scales, **kwargs) -> None:
        if kwargs.get('center_offset', 0.0) != 0.0 or kwargs.get('centers'):
            raise ValueError('torchvision centres anchors on the top-left '
                             'corner of a cell: center_offset must be 0 and '
                             'centers unset')
        super().__init__(strides, ratios, scales=scales, **kwargs)

    def gen_single_level_base_anchors(
            self,
            base_size: Union[int, float],
            scales: Tensor,
            ratios: Tensor,
            center: Optional[Tuple[float]] = None) -> Tensor:
        """Rounded base anchors of one level, centred on the origin.

        Args:
            base_size (int | float): Size that ``scales`` multiply.
            scales (Tensor): Anchor scales, shape (S, ).
            ratios (Tensor): Height / width ratios, shape (R, ).
            center (tuple[float], optional): Unused; always the origin.

        Returns:
            Tensor: ``x1, y1, x2, y2`` of the R * S anchors (ratios outer),
            shape (R * S, 4).
        """
        sizes = scales * base_size
        h_ratios = torch.sqrt(ratios)
        w_ratios = 1 / h_ratios
        ws = (w_ratios[:, None] * sizes[None, :]).view(-1)
        hs = (h_ratios[:, None] * sizes[None, :]).view(-1)
        return (torch.stack([-ws, -hs, ws, hs], dim=1) / 2).round()
