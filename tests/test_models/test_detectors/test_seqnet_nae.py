# Copyright (c) mmps contributors. All rights reserved.
"""NAE and SeqNet on tiny ResNet-18 versions of their configs."""
import numpy as np
import pytest
import torch
from mmdet.structures.bbox import (bbox2roi, bbox_overlaps, get_box_tensor,
                                   scale_boxes)

from mmps.models import NAE, SeqNet
from mmps.registry import MODELS
from mmps.testing import demo_person_search_inputs, get_tiny_model_cfg
from ..test_roi_heads.test_person_detections import slow_reference

IMAGE_SHAPES = [(3, 160, 128), (3, 128, 160)]
SEQNET = '_base_/models/seqnet_r50-c4.py'
NAE_MODEL = '_base_/models/nae_r50-c4.py'


def _build(name, score_thr=0.0, **kwargs):
    torch.manual_seed(0)
    cfg = get_tiny_model_cfg(name, num_person_ids=4, **kwargs)
    # the configs normalise in their pipeline (TorchvisionResize) and the
    # preprocessor only pads; these tests feed raw pixels, which saturate
    # an untrained model's scores at exactly 1.0 (all tied)
    cfg.data_preprocessor.update(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
    # an untrained model scores near 0.5: keep what it finds
    cfg.test_cfg.rcnn.score_thr = score_thr
    if 'proposal' in cfg.test_cfg.rcnn:
        cfg.test_cfg.rcnn.proposal.score_thr = score_thr
    model = MODELS.build(cfg)
    model.init_weights()
    # untrained norms are nearly equal: spread the scores so that few tie
    model.roi_head.embedding_head.rescaler.weight.data.fill_(20.0)
    return model


def _by_score(bboxes, scores, embeddings):
    """Detections ordered by score, ties by x1: NMS implementations order
    equal scores differently."""
    order = torch.from_numpy(
        np.lexsort((bboxes[:, 0].numpy(), -scores.numpy())).copy())
    return bboxes[order], scores[order], embeddings[order]


def _assert_same_detections(pred, bboxes, scores, embeddings):
    ours = _by_score(pred.bboxes, pred.scores, pred.embeddings)
    expected = _by_score(bboxes, scores, embeddings)
    torch.testing.assert_close(ours[0], expected[0], atol=1e-3, rtol=0)
    torch.testing.assert_close(ours[1], expected[1])
    torch.testing.assert_close(ours[2], expected[2], atol=1e-5, rtol=1e-4)


def _train_batch(model):
    packed = demo_person_search_inputs(
        2, IMAGE_SHAPES, num_items=[3, 2], person_ids=[[0, -1, 3], [1, -1]])
    return model.data_preprocessor(packed, True)


@pytest.mark.parametrize('name,cls,keys', [
    (NAE_MODEL, NAE, set()),
    (SEQNET, SeqNet,
     {'loss_proposal_cls', 'proposal_acc', 'loss_proposal_bbox'}),
])
def test_loss_keys_values_and_gradients(name, cls, keys):
    model = _build(name).train()
    assert isinstance(model, cls)
    data = _train_batch(model)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {
        'loss_rpn_cls', 'loss_rpn_bbox', 'loss_bbox', 'loss_cls', 'loss_reid'
    } | keys
    for name_, value in losses.items():
        for v in value if isinstance(value, list) else [value]:
            assert torch.isfinite(v).all(), name_
    # empty memory: the first OIM loss is log(L + Q)
    torch.testing.assert_close(losses['loss_reid'],
                               torch.log(torch.tensor(4. + 16.)))
    head = model.roi_head
    # the norm-aware head and the box regression learn
    losses = model.loss(data['inputs'], data['data_samples'])
    (losses['loss_reid'] + losses['loss_cls'] + losses['loss_bbox']).backward()
    for module in (head.embedding_head.projections, head.bbox_head.fc_reg,
                   head.shared_head, model.backbone.layer3):
        grads = [p.grad for p in module.parameters() if p.requires_grad]
        assert all(g is not None for g in grads)
        assert sum(float(g.abs().sum()) for g in grads) > 0
    if cls is SeqNet:
        # stage 2 starts from detached stage-1 boxes: its losses do not
        # reach stage 1's box regression or res5
        assert head.proposal_bbox_head.fc_reg.weight.grad is None
        assert all(p.grad is None
                   for p in head.proposal_shared_head.parameters())


def _gallery_batch(model):
    packed = demo_person_search_inputs(
        2, IMAGE_SHAPES, num_items=[3, 2], query_flags=[False, False])
    return model.data_preprocessor(packed, False)


def test_nae_embeds_the_proposals_in_one_pass():
    model = _build(NAE_MODEL, score_thr=0.3).eval()
    data = _gallery_batch(model)
    head = model.roi_head
    with torch.no_grad():
        results = model.predict(data['inputs'], data['data_samples'])
        x = model.extract_feat(data['inputs'])
        proposals = model.rpn_head.predict(x, data['data_samples'], False)
    cfg = head.test_cfg
    found = 0
    for i, (result, proposal) in enumerate(zip(results, proposals)):
        with torch.no_grad():
            rois = bbox2roi([proposal.bboxes])
            out = head._bbox_forward(tuple(f[i:i + 1] for f in x), rois)
        boxes = head.bbox_head.bbox_coder.decode(
            proposal.bboxes,
            out['bbox_pred'],
            max_shape=result.metainfo['img_shape'])
        scores = out['cls_score'].sigmoid()
        kept = slow_reference(boxes.tolist(), scores.tolist(), cfg.score_thr,
                              cfg.min_bbox_size, cfg.nms.iou_threshold,
                              cfg.max_per_img)
        pred = result.pred_instances
        assert len(pred) == len(kept)
        found += len(kept)
        scale = [1 / s for s in result.metainfo['scale_factor']]
        # each detection carries the embedding of its proposal
        _assert_same_detections(pred, scale_boxes(boxes[kept], scale),
                                scores[kept], out['embeddings'][kept])
    assert found > 2


def test_seqnet_scores_first_stage_and_embeds_first_stage_boxes():
    model = _build(SEQNET).eval()
    data = _gallery_batch(model)
    head = model.roi_head
    with torch.no_grad():
        results = model.predict(data['inputs'], data['data_samples'])
        x = model.extract_feat(data['inputs'])
        proposals = model.rpn_head.predict(x, data['data_samples'], False)
        metas = [s.metainfo for s in data['data_samples']]
        stage1_boxes, stage1_scores = head.predict_proposals(
            x, metas, proposals)
    found = 0
    for i, result in enumerate(results):
        boxes1, scores1 = stage1_boxes[i], stage1_scores[i]
        feats = tuple(f[i:i + 1] for f in x)
        with torch.no_grad():
            pooled = head.pooled_features(feats, bbox2roi([boxes1]))
            _, deltas = head.bbox_head(pooled[-1])
            embeddings = head.embed_boxes(feats, [boxes1])[0]
        refined = head.bbox_head.bbox_coder.decode(
            boxes1, deltas, max_shape=metas[i]['img_shape'])
        # the regression moves the boxes: the test would see a mix-up
        assert (refined - boxes1).abs().max() > 0.01
        cfg = head.test_cfg
        # First Classification Score: stage 2 keeps the stage-1 scores
        kept = slow_reference(refined.tolist(), scores1.tolist(),
                              cfg.score_thr, cfg.min_bbox_size,
                              cfg.nms.iou_threshold, cfg.max_per_img)
        pred = result.pred_instances
        assert len(pred) == len(kept)
        found += len(kept)
        scale = [1 / s for s in metas[i]['scale_factor']]
        # the embedding describes the stage-1 box, not the refined one
        _assert_same_detections(pred, scale_boxes(refined[kept], scale),
                                scores1[kept], embeddings[kept])
    assert found > 2


@pytest.mark.parametrize('name', [NAE_MODEL, SEQNET])
def test_query_embedding_and_mixed_batches(name):
    model = _build(name).eval()
    packed = demo_person_search_inputs(
        2, IMAGE_SHAPES, num_items=[3, 1], query_flags=[False, True])
    # the demo's scale factor would move the query box out of the image
    packed['data_samples'][1].set_metainfo(dict(scale_factor=(1.0, 1.0)))
    data = model.data_preprocessor(packed, False)
    with torch.no_grad():
        mixed = model.predict(data['inputs'], data['data_samples'])
        alone = [
            model.predict(data['inputs'][i:i + 1],
                          data['data_samples'][i:i + 1])[0] for i in range(2)
        ]
        x = model.extract_feat(data['inputs'][1:])
        query_box = get_box_tensor(
            packed["data_samples"][1].gt_instances.bboxes)
        expected = model.roi_head.embed_boxes(
            x, [scale_boxes(query_box, mixed[1].metainfo['scale_factor'])])[0]
    query = mixed[1].pred_instances
    torch.testing.assert_close(query.bboxes, query_box)
    torch.testing.assert_close(
        query.embeddings, expected, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(query.embeddings.norm(dim=1), torch.ones(1))
    for together, single in zip(mixed, alone):
        assert len(together.pred_instances) == len(single.pred_instances)
        torch.testing.assert_close(
            together.pred_instances.embeddings,
            single.pred_instances.embeddings,
            atol=1e-5,
            rtol=1e-4)
    assert 'context_instances' not in mixed[1]


def test_seqnet_query_context_forces_the_query_box_first():
    model = _build(SEQNET)
    model.roi_head.test_cfg.query_context = True
    model.eval()
    packed = demo_person_search_inputs(
        1, [(3, 160, 128)], num_items=[1], query_flags=[True])
    packed['data_samples'][0].set_metainfo(dict(scale_factor=(1.0, 1.0)))
    data = model.data_preprocessor(packed, False)
    with torch.no_grad():
        result = model.predict(data['inputs'], data['data_samples'])[0]
    context = result.context_instances
    query_box = get_box_tensor(packed["data_samples"][0].gt_instances.bboxes)
    assert len(context) > 1
    torch.testing.assert_close(context.bboxes[:1], query_box)
    assert float(context.scores[0]) == 1.0
    # the query person's embedding is the query embedding
    torch.testing.assert_close(
        context.embeddings[:1],
        result.pred_instances.embeddings,
        atol=1e-5,
        rtol=1e-4)
    # the others survived NMS with it (IoU <= 0.5) and come by score
    overlaps = bbox_overlaps(context.bboxes[:1], context.bboxes[1:])
    assert (overlaps <= model.roi_head.test_cfg.nms.iou_threshold).all()
    assert (context.scores[1:].diff() <= 0).all()


def test_seqnet_query_context_needs_one_box_per_query():
    model = _build(SEQNET)
    model.roi_head.test_cfg.query_context = True
    model.eval()
    packed = demo_person_search_inputs(
        1, [(3, 160, 128)], num_items=[2], query_flags=[True])
    data = model.data_preprocessor(packed, False)
    with pytest.raises(ValueError, match='one query box per query'):
        with torch.no_grad():
            model.predict(data['inputs'], data['data_samples'])
