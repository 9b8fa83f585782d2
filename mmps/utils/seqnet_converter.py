# Copyright (c) mmps contributors. All rights reserved.
"""Map a SeqNet checkpoint (serend1p1ty/SeqNet) to mmps' SeqNet model.

SeqNet saves ``{'model': state_dict, 'optimizer': ..., 'lr_scheduler': ...,
'epoch': ...}``. Its state dict, and what each part becomes in mmps
(``configs/seqnet``):

========================================== ==================================
SeqNet                                     mmps
========================================== ==================================
``backbone.*`` (torchvision ResNet-50      ``backbone.*`` (mmdet's ResNet
conv1..layer3)                             names them alike)
``rpn.head.conv[.0.0].*``                  ``rpn_head.rpn_conv.*``
``rpn.head.cls_logits.*``                  ``rpn_head.rpn_cls.*``
``rpn.head.bbox_pred.*``                   ``rpn_head.rpn_reg.*``
``roi_heads.box_head.layer4.*``            ``roi_head.proposal_shared_head
                                           .layer4.*``
``roi_heads.faster_rcnn_predictor          ``roi_head.proposal_bbox_head
.cls_score.*`` (background, person)        .fc_cls.*`` (person, background)
``roi_heads.faster_rcnn_predictor          ``roi_head.proposal_bbox_head
.bbox_pred.*`` (8 rows: background,        .fc_reg.*`` (the person's 4)
person)
``roi_heads.reid_head.layer4.*``           ``roi_head.shared_head.layer4.*``
``roi_heads.box_predictor.bbox_pred.0.*``  ``roi_head.bbox_head.fc_reg
and ``.1.*`` (Linear, BN neck; 8 rows)     .linear.*`` and ``.norm.*`` (4)
``roi_heads.box_predictor.bbox_pred.*``    ``roi_head.bbox_head.fc_reg.*``
(without the BN neck)                      (set ``reg_predictor_cfg=dict(
                                           type='Linear')``)
``roi_heads.embedding_head.projectors      ``roi_head.embedding_head
.feat_res4.*`` / ``.feat_res5.*``          .projections.0.*`` / ``.1.*``
``roi_heads.embedding_head.rescaler.*``    ``roi_head.embedding_head
                                           .rescaler.*``
``roi_heads.reid_loss.lut`` / ``.cq``      ``roi_head.embedding_head
                                           .loss_reid.lookup_table`` /
                                           ``.queue``
========================================== ==================================

SeqNet keeps its queue pointer outside the state dict; the converted
``queue_ptr`` is 0. A key that fits no row, or a row left without its keys,
is an error that names them.
"""
import re
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch import Tensor

#: SeqNet class order is (background, person); mmdet's is (person,
#: background).
_PERSON_FIRST = [1, 0]
#: Rows of the person class in SeqNet's two-class box regressions.
_PERSON_DELTAS = slice(4, 8)


def _same(value: Tensor) -> Tensor:
    return value


def _person_first(value: Tensor) -> Tensor:
    return value[_PERSON_FIRST].clone()


def _person_deltas(value: Tensor) -> Tensor:
    if value.dim() == 0:  # a BatchNorm's num_batches_tracked
        return value
    if value.shape[0] != 8:
        raise ValueError(f'expected the 8 rows of a two-class box '
                         f'regression, got shape {tuple(value.shape)}')
    return value[_PERSON_DELTAS].clone()


#: (pattern of a SeqNet key, mmps key template, transform). Patterns are
#: anchored; ``\1`` in the template is the rest of the key.
RULES: List[Tuple[str, str, Callable[[Tensor], Tensor]]] = [
    (r'backbone\.(.+)', r'backbone.\1', _same),
    (r'rpn\.head\.conv(?:\.0\.0)?\.(weight|bias)', r'rpn_head.rpn_conv.\1',
     _same),
    (r'rpn\.head\.cls_logits\.(weight|bias)', r'rpn_head.rpn_cls.\1', _same),
    (r'rpn\.head\.bbox_pred\.(weight|bias)', r'rpn_head.rpn_reg.\1', _same),
    (r'roi_heads\.box_head\.(layer4\..+)', r'roi_head.proposal_shared_head.\1',
     _same),
    (r'roi_heads\.reid_head\.(layer4\..+)', r'roi_head.shared_head.\1', _same),
    (r'roi_heads\.faster_rcnn_predictor\.cls_score\.(weight|bias)',
     r'roi_head.proposal_bbox_head.fc_cls.\1', _person_first),
    (r'roi_heads\.faster_rcnn_predictor\.bbox_pred\.(weight|bias)',
     r'roi_head.proposal_bbox_head.fc_reg.\1', _person_deltas),
    (r'roi_heads\.box_predictor\.bbox_pred\.0\.(weight|bias)',
     r'roi_head.bbox_head.fc_reg.linear.\1', _person_deltas),
    (r'roi_heads\.box_predictor\.bbox_pred\.1\.(.+)',
     r'roi_head.bbox_head.fc_reg.norm.\1', _person_deltas),
    (r'roi_heads\.box_predictor\.bbox_pred\.(weight|bias)',
     r'roi_head.bbox_head.fc_reg.\1', _person_deltas),
    (r'roi_heads\.embedding_head\.projectors\.feat_res4\.(.+)',
     r'roi_head.embedding_head.projections.0.\1', _same),
    (r'roi_heads\.embedding_head\.projectors\.feat_res5\.(.+)',
     r'roi_head.embedding_head.projections.1.\1', _same),
    (r'roi_heads\.embedding_head\.rescaler\.(.+)',
     r'roi_head.embedding_head.rescaler.\1', _same),
    (r'roi_heads\.reid_loss\.lut()',
     r'roi_head.embedding_head.loss_reid.lookup_table\1', _same),
    (r'roi_heads\.reid_loss\.cq()',
     r'roi_head.embedding_head.loss_reid.queue\1', _same),
]

#: Parts every SeqNet checkpoint has: a prefix of its keys and what the
#: part is (the BN-neck-free box predictor is one of two forms).
REQUIRED_PARTS = {
    'backbone.layer3.': 'the backbone (res2-res4)',
    'rpn.head.cls_logits.': 'the RPN',
    'roi_heads.box_head.layer4.': "stage 1's res5",
    'roi_heads.faster_rcnn_predictor.': "stage 1's predictor",
    'roi_heads.reid_head.layer4.': "stage 2's res5",
    'roi_heads.box_predictor.bbox_pred.': "stage 2's box regressor",
    'roi_heads.embedding_head.rescaler.': 'the norm rescaler',
    'roi_heads.embedding_head.projectors.feat_res4.': 'the res4 projection',
    'roi_heads.embedding_head.projectors.feat_res5.': 'the res5 projection',
    'roi_heads.reid_loss.lut': 'the OIM lookup table',
    'roi_heads.reid_loss.cq': 'the OIM queue',
}


def seqnet_state_dict(checkpoint: dict, source: str = 'checkpoint') -> dict:
    """The model state dict of a loaded SeqNet checkpoint.

    Args:
        checkpoint (dict): What ``torch.load`` gave: SeqNet's
            ``{'model': state_dict, ...}`` or a bare state dict.
        source (str): Name of the file, for errors.

    Returns:
        dict: The state dict.
    """
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{source}: expected a dict, got '
                         f'{type(checkpoint).__name__}')
    state_dict = checkpoint.get('model', checkpoint)
    if not isinstance(state_dict, dict) or not all(
            isinstance(v, Tensor) for v in state_dict.values()):
        raise ValueError(f'{source}: expected SeqNet\'s {{"model": '
                         f'state_dict, ...}} or a state dict of tensors')
    return state_dict


def convert_seqnet_state_dict(
        state_dict: Dict[str, Tensor],
        source: str = 'checkpoint') -> 'OrderedDict[str, Tensor]':
    """Rename and reshape SeqNet's tensors for mmps' SeqNet model.

    Args:
        state_dict (dict[str, Tensor]): SeqNet's model state dict.
        source (str): Name of the file, for errors.

    Returns:
        OrderedDict[str, Tensor]: mmps' state dict, ``queue_ptr`` included.

    Raises:
        ValueError: If a key fits no part of SeqNet, or a part is missing;
            the message names them.
    """
    converted: 'OrderedDict[str, Tensor]' = OrderedDict()
    unknown = []
    for key, value in state_dict.items():
        target: Optional[str] = None
        for pattern, template, transform in RULES:
            match = re.fullmatch(pattern, key)
            if match:
                target = match.expand(template)
                converted[target] = transform(value)
                break
        if target is None:
            unknown.append(key)
    if unknown:
        raise ValueError(f'{source}: {len(unknown)} keys are not part of '
                         f'SeqNet\'s model: {unknown[:10]}')
    missing = [
        f'{prefix}* ({what})' for prefix, what in REQUIRED_PARTS.items()
        if not any(key.startswith(prefix) for key in state_dict)
    ]
    if missing:
        raise ValueError(f'{source}: not a whole SeqNet model, missing '
                         f'{missing}')
    converted['roi_head.embedding_head.loss_reid.queue_ptr'] = torch.zeros(
        (), dtype=torch.long)
    return converted
