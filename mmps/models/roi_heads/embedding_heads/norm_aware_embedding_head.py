# Copyright (c) mmps contributors. All rights reserved.
from typing import List, Sequence, Tuple

from mmcv.cnn import build_norm_layer
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.utils import ConfigType, InstanceList, OptMultiConfig
from torch import Tensor

from mmps.registry import MODELS
from .base_embedding_head import BACKGROUND_ID
from .multi_input_embedding_head import MultiInputEmbeddingHead


@MODELS.register_module()
class NormAwareEmbeddingHead(MultiInputEmbeddingHead):
    """Norm-aware embedding: the norm detects, the direction identifies.

    From `Norm-Aware Embedding for Efficient Person Search
    <https://arxiv.org/abs/2003.12186>`_ (Chen et al., CVPR 2020). Each
    pooled RoI feature (e.g. the max-pooled RoIAlign output of res4 and the
    max-pooled res5 output) is projected by a linear layer and a BatchNorm
    to its share of the ``D`` channels; the projections are concatenated.
    The L2 norm of the result, rescaled by a 1-d BatchNorm, is the
    person/background logit (its sigmoid the detection confidence); the
    unit vector is the embedding.

    Training: the re-identification loss (OIM) on the foreground RoIs, as
    :class:`BaseEmbeddingHead`, and ``loss_cls`` (binary cross-entropy) on
    the logits of all RoIs, foreground against background.

    Args:
        in_channels (Sequence[int]): Channels of each input feature.
            Defaults to (1024, 2048), res4 and res5 of a ResNet.
        embed_channels (int): Dimension ``D`` of the embedding, split among
            the inputs (:func:`split_channels`). Defaults to 256.
        norm_cfg (dict): Normalisation after each projection and of the
            norm. Defaults to ``dict(type='BN1d')``.
        loss_reid (dict): Config of the re-identification loss.
            Defaults to ``dict(type='OIMLoss', num_person_ids=5532)``.
        loss_cls (dict): Config of the person/background loss on the
            logits. Defaults to a sigmoid cross-entropy.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to NAE's: weights of the projections' linear and
            normalisation layers from N(0, 0.01), biases 0.
    """

    def __init__(
        self,
        in_channels: Sequence[int] = (1024, 2048),
        embed_channels: int = 256,
        norm_cfg: ConfigType = dict(type='BN1d'),
        loss_reid: ConfigType = dict(type='OIMLoss', num_person_ids=5532),
        loss_cls: ConfigType = dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        init_cfg: OptMultiConfig = dict(
            type='Normal', std=0.01, bias=0, override=dict(name='projections'))
    ) -> None:
        super().__init__(in_channels, embed_channels, norm_cfg, loss_reid,
                         init_cfg)
        self.rescaler = build_norm_layer(norm_cfg, 1)[1]
        self.loss_cls = MODELS.build(loss_cls)

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        """Embed pooled RoI features and score them by the norm.

        Args:
            feats (Sequence[Tensor]): One feature per input, see
                :meth:`MultiInputEmbeddingHead.project`.

        Returns:
            tuple[Tensor, Tensor]: Unit-norm embeddings, shape (N, D), and
            person logits (the rescaled norms), shape (N, ).
        """
        x = self.project(feats)
        norms = x.norm(dim=1, keepdim=True)
        embeddings = x / norms.clamp(min=1e-12)
        logits = self.rescaler(norms).squeeze(1)
        return embeddings, logits

    def loss_and_target(self, embeddings: Tensor,
                        sampling_results: List[SamplingResult],
                        batch_gt_instances: InstanceList,
                        cls_score: Tensor) -> dict:
        """Re-identification and norm (person/background) losses.

        Args:
            embeddings (Tensor): Embeddings of all sampled RoIs, (n, D).
            sampling_results (list[:obj:`SamplingResult`]): Sampling results.
            batch_gt_instances (list[:obj:`InstanceData`]): Ground truth with
                ``person_ids``.
            cls_score (Tensor): Person logits of the RoIs, shape (n, ).

        Returns:
            dict: ``loss_reid`` (dict with ``loss_reid`` and ``loss_cls``)
            and ``reid_targets``, the person id of each RoI (n, ).
        """
        results = super().loss_and_target(embeddings, sampling_results,
                                          batch_gt_instances)
        is_person = (results['reid_targets'] != BACKGROUND_ID).long()
        results['loss_reid']['loss_cls'] = self.loss_cls(cls_score, is_person)
        return results
