# NAE (Chen et al., CVPR 2020) as its code (dichen-cd/NAE4PS) builds it:
# torchvision's ResNet-50 C4 Faster R-CNN whose RoI head has no classifier;
# the norm of the 256-d embedding (max-pooled res4 and res5 RoI features,
# each projected with a BN neck) is the person score. Differences from
# mmps' OIM model, each as NAE's code does it, are listed in
# configs/nae/README.md.
_base_ = ['./oim_r50-caffe-c4.py']

# torchvision's ResNet-50: pytorch style, BN trained in train mode (batch
# statistics); NAE only fixes the weights of conv1 and bn1 (in the
# schedule: lr_mult 0)
norm_cfg = dict(type='BN', requires_grad=True)
torchvision_resnet50 = dict(
    type='Pretrained', checkpoint='torchvision://resnet50')
model = dict(
    type='NAE',
    # the images come in RGB, normalised with ImageNet's mean and std, from
    # the pipeline (TorchvisionResize, in torchvision's order): only padding
    # is left
    data_preprocessor=dict(
        mean=[0.0, 0.0, 0.0],
        std=[1.0, 1.0, 1.0],
        bgr_to_rgb=False,
        pad_size_divisor=32),
    backbone=dict(
        style='pytorch',
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=torchvision_resnet50),
    rpn_head=dict(
        # ranks anchors by logit and keeps ties in order, as torchvision
        type='TorchvisionRPNHead',
        # torchvision rounds the anchors to integers
        anchor_generator=dict(
            type='TorchvisionAnchorGenerator',
            scales=[2, 4, 8, 16, 32],
            ratios=[0.5, 1.0, 2.0],
            strides=[16]),
        loss_bbox=dict(
            _delete_=True, type='SmoothL1Loss', beta=1.0 / 9,
            loss_weight=1.0)),
    roi_head=dict(
        type='NAERoIHead',
        shared_head=dict(
            style='pytorch',
            norm_cfg=norm_cfg,
            norm_eval=False,
            init_cfg=torchvision_resnet50),
        # torchvision's RoIAlign: 14x14, 2 samples per bin, not aligned
        bbox_roi_extractor=dict(
            roi_layer=dict(
                type='RoIAlign',
                output_size=14,
                sampling_ratio=2,
                aligned=False)),
        # box regression only, from the max-pooled res5 features, with a BN
        # neck (NAE's `rcnn_bbox_bn`)
        bbox_head=dict(
            _delete_=True,
            type='BBoxHead',
            with_avg_pool=False,
            with_cls=False,
            roi_feat_size=1,
            in_channels=2048,
            num_classes=1,
            reg_class_agnostic=True,
            reg_predictor_cfg=dict(type='LinearBN'),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=10.0),
            init_cfg=dict(
                type='Normal', std=0.01, bias=0,
                override=dict(name='fc_reg'))),
        embedding_head=dict(
            _delete_=True,
            type='NormAwareEmbeddingHead',
            in_channels=(1024, 2048),
            embed_channels=256,
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
            loss_reid=dict(
                type='OIMLoss',
                num_person_ids=5532,
                num_features=256,
                queue_size=5000,
                momentum=0.5,
                scale=30.0,
                loss_weight=1.0,
                # one momentum step per RoI, as NAE's OIM
                table_update='sequential'))),
    train_cfg=dict(
        # torchvision's RPN drops proposals smaller than 1e-3 px
        rpn_proposal=dict(min_bbox_size=1e-3),
        rcnn=dict(
            # NAE's torchvision Matcher(0.5, 0.1): positives IoU >= 0.5,
            # negatives IoU < 0.1, the RoIs in between are not sampled
            assigner=dict(pos_iou_thr=0.5, neg_iou_thr=0.1, min_pos_iou=0.5),
            sampler=dict(num=128, pos_fraction=0.5))),
    test_cfg=dict(
        rpn=dict(nms_pre=6000, max_per_img=300, min_bbox_size=1e-3),
        rcnn=dict(
            _delete_=True,
            score_thr=0.5,
            min_bbox_size=0.01,
            nms=dict(type='nms', iou_threshold=0.4),
            max_per_img=300)))
