# OIM person search model: ResNet-50 C4 Faster R-CNN (mmdet's base) with a
# person/background box head and a 256-d embedding head trained with OIM.
_base_ = ['mmdet::_base_/models/faster-rcnn_r50-caffe-c4.py']

# BatchNorm as SeqNet's and NAE's code trains it (the SeqNet-style recipe):
# every BN layer of the backbone and of the conv5 head learns, statistics
# included; only the stem is frozen. mmdet's caffe-C4 base freezes them all;
# the paper's Caffe code trains the conv5 head's BN only (see the
# oim_r50-caffe-c4_paper config).
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    _scope_='mmps',
    type='PersonSearch',
    backbone=dict(frozen_stages=0, norm_cfg=norm_cfg, norm_eval=False),
    roi_head=dict(
        type='PersonSearchRoIHead',
        shared_head=dict(norm_cfg=norm_cfg, norm_eval=False),
        bbox_head=dict(num_classes=1, reg_class_agnostic=True),
        embedding_head=dict(
            type='EmbeddingHead',
            in_channels=2048,
            embed_channels=256,
            with_avg_pool=True,
            loss_reid=dict(
                type='OIMLoss',
                # rows of the lookup table: the number of training
                # identities of the dataset (5532 on CUHK-SYSU)
                num_person_ids=5532,
                num_features=256,
                queue_size=5000,
                momentum=0.5,
                # 1 / temperature; the original Caffe OIM used 10
                scale=30.0,
                loss_weight=1.0))),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=12000, max_per_img=2000),
        rcnn=dict(
            assigner=dict(
                pos_iou_thr=0.5,
                # a tuple: negatives are proposals with IoU in [0.1, 0.5)
                neg_iou_thr=(0.1, 0.5),
                min_pos_iou=0.5),
            sampler=dict(num=128, pos_fraction=0.5,
                         add_gt_as_proposals=True))),
    test_cfg=dict(
        rpn=dict(nms_pre=6000, max_per_img=300),
        rcnn=dict(
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.4),
            max_per_img=100)))
