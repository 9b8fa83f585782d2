# SeqNet (Li and Miao, AAAI 2021) as its code (serend1p1ty/SeqNet) builds
# it: NAE's model with a Faster R-CNN head in front of the NAE head. Stage 1
# classifies and regresses the proposals with its own res5; its detections
# are pooled again through a second res5, regressed once more and embedded
# by the norm-aware head. Differences from mmdet's Faster R-CNN are listed
# in configs/seqnet/README.md.
_base_ = ['./nae_r50-c4.py']

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='SeqNet',
    roi_head=dict(
        type='SeqNetRoIHead',
        # stage 1: its own res5 (SeqNet's `box_head`) and a person /
        # background softmax with box regression on the max-pooled features
        # (SeqNet's `faster_rcnn_predictor`, PyTorch's default init)
        proposal_shared_head=dict(
            type='ResLayer',
            depth=50,
            stage=3,
            stride=2,
            dilation=1,
            style='pytorch',
            norm_cfg=norm_cfg,
            norm_eval=False,
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet50')),
        proposal_bbox_head=dict(
            type='BBoxHead',
            with_avg_pool=False,
            roi_feat_size=1,
            in_channels=2048,
            num_classes=1,
            reg_class_agnostic=True,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            # SeqNet's LW_PROPOSAL_REG
            loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=10.0),
            init_cfg=[]),
        # stage 2: SeqNet's `box_predictor` weighs its regression 1
        bbox_head=dict(loss_bbox=dict(loss_weight=1.0))),
    train_cfg=dict(
        # SeqNet: positives IoU >= 0.5, negatives IoU < 0.5, both stages
        rcnn=dict(assigner=dict(neg_iou_thr=0.5))),
    test_cfg=dict(
        rcnn=dict(
            # stage 1 (SeqNet's ROI_HEAD.*_TEST)
            proposal=dict(
                score_thr=0.5,
                min_bbox_size=0.01,
                nms=dict(type='nms', iou_threshold=0.4),
                max_per_img=300),
            # stage 2: refined boxes overlap more, hence NMS at 0.5
            nms=dict(iou_threshold=0.5),
            # SeqNet's CBGM context of the queries (query image searched
            # with the query box forced in): set True to score CBGM with
            # context='seqnet'
            query_context=False)))
