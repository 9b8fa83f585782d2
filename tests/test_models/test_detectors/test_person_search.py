# Copyright (c) mmps contributors. All rights reserved.
import pytest
import torch
from mmdet.structures.bbox import bbox2roi, get_box_tensor, scale_boxes

from mmps.models import PersonSearch
from mmps.registry import MODELS
from mmps.testing import demo_person_search_inputs, get_tiny_model_cfg

IMAGE_SHAPES = [(3, 160, 128), (3, 128, 160)]


def _build_tiny_model(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(get_tiny_model_cfg(**kwargs))


def test_loss_keys_values_and_gradients():
    model = _build_tiny_model(num_person_ids=4)
    assert isinstance(model, PersonSearch)
    packed = demo_person_search_inputs(
        2, IMAGE_SHAPES, num_items=[3, 2], person_ids=[[0, -1, 3], [1, -1]])
    data = model.data_preprocessor(packed, True)
    model.train()
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {
        'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'acc', 'loss_bbox',
        'loss_reid'
    }
    for name, value in losses.items():
        for v in value if isinstance(value, list) else [value]:
            assert torch.isfinite(v).all(), name
    # the memory was empty (all zeros): every one of the L + Q logits is 0,
    # so the OIM loss of the first step is log(L + Q)
    torch.testing.assert_close(losses['loss_reid'],
                               torch.log(torch.tensor(4. + 16.)))
    # the labeled identities entered the table, the others did not
    table = model.roi_head.embedding_head.loss_reid.lookup_table
    torch.testing.assert_close(
        table.norm(dim=1), torch.tensor([1., 1., 0., 1.]))

    # with a filled memory the re-id loss alone trains the backbone
    losses = model.loss(data['inputs'], data['data_samples'])
    assert losses['loss_reid'] < torch.log(torch.tensor(4. + 16.))
    losses['loss_reid'].backward()
    backbone_grad = model.backbone.layer3[0].conv1.weight.grad
    assert backbone_grad is not None and backbone_grad.abs().sum() > 0
    projection_grad = model.roi_head.embedding_head.projection.weight.grad
    assert projection_grad.abs().sum() > 0
    # frozen stages (stem and layer1) get no gradient
    assert model.backbone.conv1.weight.grad is None


def test_predict_gallery_and_query_modes():
    model = _build_tiny_model().eval()
    packed = demo_person_search_inputs(
        2, IMAGE_SHAPES, num_items=[3, 2], query_flags=[False, True])
    data = model.data_preprocessor(packed, False)
    with torch.no_grad():
        results = model.predict(data['inputs'], data['data_samples'])

    gallery = results[0].pred_instances
    assert len(gallery) > 0
    assert gallery.embeddings.dtype == torch.float32
    assert gallery.embeddings.shape == (len(gallery), 256)
    torch.testing.assert_close(
        gallery.embeddings.norm(dim=1), torch.ones(len(gallery)))
    assert (gallery.scores >= model.test_cfg.rcnn.score_thr).all()
    height, width = results[0].ori_shape
    assert (gallery.bboxes[:, 0::2] >= 0).all()
    assert (gallery.bboxes[:, 0::2] <= width + 1e-3).all()
    assert (gallery.bboxes[:, 1::2] <= height + 1e-3).all()

    query = results[1].pred_instances
    query_gt = get_box_tensor(packed['data_samples'][1].gt_instances.bboxes)
    torch.testing.assert_close(query.bboxes, query_gt)
    assert query.embeddings.shape == (2, 256)
    torch.testing.assert_close(query.embeddings.norm(dim=1), torch.ones(2))
    assert query.scores.tolist() == [1.0, 1.0]

    # a query embedding is the embedding of its box in input coordinates
    with torch.no_grad():
        x = model.extract_feat(data['inputs'][1:])
        scale_factor = results[1].metainfo['scale_factor']
        expected = model.roi_head.embed_boxes(
            x, [scale_boxes(query_gt, scale_factor)])[0]
    torch.testing.assert_close(query.embeddings, expected)


def test_mixed_batch_equals_separate_batches():
    model = _build_tiny_model().eval()
    packed = demo_person_search_inputs(
        2, [(3, 128, 128)] * 2, num_items=[3, 2], query_flags=[True, False])
    data = model.data_preprocessor(packed, False)
    with torch.no_grad():
        mixed = model.predict(data['inputs'], data['data_samples'])
        alone = [
            model.predict(data['inputs'][i:i + 1],
                          data['data_samples'][i:i + 1])[0] for i in range(2)
        ]
    # batched and single-image convolutions round differently: tolerances
    for together, single in zip(mixed, alone):
        assert len(together.pred_instances) == len(single.pred_instances)
        torch.testing.assert_close(
            together.pred_instances.bboxes,
            single.pred_instances.bboxes,
            atol=1e-3,
            rtol=0)
        torch.testing.assert_close(
            together.pred_instances.embeddings,
            single.pred_instances.embeddings,
            atol=1e-5,
            rtol=1e-4)


def test_predict_without_rescale_keeps_input_coordinates():
    model = _build_tiny_model().eval()
    packed = demo_person_search_inputs(
        1, [(3, 128, 128)], num_items=[2], query_flags=[True])
    data = model.data_preprocessor(packed, False)
    with torch.no_grad():
        result = model.predict(
            data['inputs'], data['data_samples'], rescale=False)[0]
    gt = get_box_tensor(packed['data_samples'][0].gt_instances.bboxes)
    torch.testing.assert_close(
        result.pred_instances.bboxes,
        scale_boxes(gt, result.metainfo['scale_factor']))


def test_gallery_embeddings_of_the_proposals():
    """embedding_rois='proposals': the detections of the default mode, each
    with the embedding of the proposal its box was regressed from."""
    model = _build_tiny_model().eval()
    # an untrained head hardly moves a proposal: make the regression shift
    # and scale every box, so that a proposal and its box differ
    with torch.no_grad():
        model.roi_head.bbox_head.fc_reg.bias.copy_(
            torch.tensor([0.3, -0.2, 0.4, 0.3]))
    # few proposals and detections: each detection's check runs conv5 again
    model.test_cfg.rpn.max_per_img = 60
    model.test_cfg.rcnn.max_per_img = 15
    packed = demo_person_search_inputs(
        2, IMAGE_SHAPES, num_items=[3, 2], query_flags=[False, False])
    data = model.data_preprocessor(packed, False)
    with torch.no_grad():
        # predict() fills the samples it is given: keep each run's results
        boxes_mode = [
            s.pred_instances for s in model.predict(
                data['inputs'], data['data_samples'], rescale=False)
        ]
        model.test_cfg.rcnn.embedding_rois = 'proposals'
        proposals_mode = [
            s.pred_instances for s in model.predict(
                data['inputs'], data['data_samples'], rescale=False)
        ]
        x = model.extract_feat(data['inputs'])
        proposals = model.rpn_head.predict(
            x, data['data_samples'], rescale=False)
    for image, (default, result) in enumerate(zip(boxes_mode, proposals_mode)):
        assert len(result) == len(default) > 0
        torch.testing.assert_close(result.bboxes, default.bboxes)
        torch.testing.assert_close(result.scores, default.scores)
        # the proposal of each detection: the one whose regressed box it is
        rois = bbox2roi([proposals[image].bboxes])
        with torch.no_grad():
            deltas = model.roi_head._bbox_forward(
                tuple(level[image:image + 1] for level in x), rois)
            decoded = model.roi_head.bbox_head.bbox_coder.decode(
                rois[:, 1:],
                deltas['bbox_pred'],
                max_shape=data['data_samples'][image].img_shape)
        for box, embedding in zip(result.bboxes, result.embeddings):
            # boxes clipped at the border may coincide: any of them
            sources = ((decoded - box).abs().amax(dim=1) < 1e-3).nonzero()
            assert len(sources) > 0
            with torch.no_grad():  # not in the batch of the model's pass
                alone = model.roi_head.embed_rois(
                    tuple(level[image:image + 1] for level in x),
                    rois[sources.view(-1)])
            assert any(
                torch.allclose(embedding, e, atol=1e-5, rtol=1e-4)
                for e in alone)
        # and not the embedding of the regressed box
        assert (result.embeddings - default.embeddings).abs().max() > 1e-2

    model.test_cfg.rcnn.embedding_rois = 'boxes'
    with pytest.raises(ValueError, match='embedding_rois must be one of'):
        model.predict(data['inputs'], data['data_samples'])


def test_detections_are_mmdets_and_each_roi_is_embedded_once():
    """Default mode: boxes and scores as mmdet's StandardRoIHead gives them;
    the embedding head runs once, on the detections (not also on the
    proposals); in 'proposals' mode once, on the proposals."""
    from mmdet.models.roi_heads import StandardRoIHead
    model = _build_tiny_model().eval()
    model.test_cfg.rpn.max_per_img = 60
    packed = demo_person_search_inputs(
        2, IMAGE_SHAPES, num_items=[3, 2], query_flags=[False, False])
    data = model.data_preprocessor(packed, False)
    calls = []
    model.roi_head.embedding_head.register_forward_hook(
        lambda module, args, output: calls.append(len(output)))
    with torch.no_grad():
        x = model.extract_feat(data['inputs'])
        proposals = model.rpn_head.predict(
            x, data['data_samples'], rescale=False)
        metas = [s.metainfo for s in data['data_samples']]
        expected = StandardRoIHead.predict_bbox(model.roi_head, x, metas,
                                                [p.clone() for p in proposals],
                                                model.test_cfg.rcnn)
        calls.clear()
        results = model.roi_head.predict_bbox(x, metas,
                                              [p.clone() for p in proposals],
                                              model.test_cfg.rcnn)
        assert calls == [sum(len(r) for r in results)]
        calls.clear()
        model.test_cfg.rcnn.embedding_rois = 'proposals'
        model.roi_head.predict_bbox(x, metas, [p.clone() for p in proposals],
                                    model.test_cfg.rcnn)
        assert calls == [sum(len(p) for p in proposals)]
    for result, reference in zip(results, expected):
        assert len(result) > 0
        torch.testing.assert_close(result.bboxes, reference.bboxes)
        torch.testing.assert_close(result.scores, reference.scores)
        torch.testing.assert_close(result.labels, reference.labels)
        assert result.embeddings.shape == (len(result), 256)


def test_res4_and_res5_embedding():
    """A two-input embedding head gets the RoI features (res4) and the
    shared head's (res5), in training and in both test modes."""
    cfg = get_tiny_model_cfg(num_person_ids=4)
    cfg.roi_head.embedding_head = dict(
        type='MultiInputEmbeddingHead',
        in_channels=(256, 512),
        loss_reid=cfg.roi_head.embedding_head.loss_reid)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    packed = demo_person_search_inputs(
        2, IMAGE_SHAPES, num_items=[3, 2], person_ids=[[0, -1, 3], [1, -1]])
    data = model.data_preprocessor(packed, True)
    model.train()
    for _ in range(2):  # the second step has a filled OIM memory
        losses = model.loss(data['inputs'], data['data_samples'])
    losses['loss_reid'].backward()
    for projection in model.roi_head.embedding_head.projections:
        assert projection[0].weight.grad.abs().sum() > 0

    model.eval()
    rois = torch.tensor([[0., 10., 20., 60., 120.], [1., 30., 5., 90., 100.]])
    with torch.no_grad():
        x = model.extract_feat(
            model.data_preprocessor(packed, False)['inputs'])
        roi_feats = model.roi_head.bbox_roi_extractor(x, rois)
        res5 = model.roi_head.shared_head(roi_feats)
        expected = model.roi_head.embedding_head([roi_feats, res5])
        torch.testing.assert_close(
            model.roi_head.embed_rois(x, rois), expected)
        # differs from an embedding of res5 alone (zero res4 part)
        head = model.roi_head.embedding_head
        res5_only = torch.nn.functional.normalize(
            torch.cat([
                torch.zeros(2, 128), head.projections[1](res5.amax(dim=(2, 3)))
            ], 1))
        assert (expected - res5_only).abs().max() > 1e-3
        for mode in ('detections', 'proposals'):
            model.test_cfg.rcnn.embedding_rois = mode
            data = model.data_preprocessor(packed, False)
            for sample in model.predict(data['inputs'], data['data_samples']):
                embeddings = sample.pred_instances.embeddings
                torch.testing.assert_close(
                    embeddings.norm(dim=1), torch.ones(len(embeddings)))
