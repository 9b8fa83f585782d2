# SeqNet on mmps' synthetic dataset, the CPU quick start's scale and
# schedule (configs/oim/oim_r18-w32-c4_1xb4-16e_synthetic.py): a half-width
# ResNet-18 C4 trained from scratch (both res5 heads half-width too),
# 320 x 240 images, 16 epochs, seed 0. Everything else is SeqNet's model
# (configs/_base_/models/seqnet_r50-c4.py).
_base_ = [
    '../_base_/models/seqnet_r50-c4.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/schedule_synthetic_16e.py',
    '../_base_/default_runtime.py'
]

norm_cfg = dict(type='BN', requires_grad=True)
half_width_res5 = dict(_delete_=True,
                       type='ScaledResLayer',
                       depth=18,
                       base_channels=32,
                       style='pytorch',
                       norm_cfg=norm_cfg,
                       norm_eval=False,
                       init_cfg=None)
model = dict(
    # the synthetic pipelines resize with mmdet's Resize: normalise here
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True),
    backbone=dict(depth=18, base_channels=32, init_cfg=None),
    rpn_head=dict(
        in_channels=128,
        feat_channels=128,
        # persons: tall anchors only, as the OIM quick start
        anchor_generator=dict(scales=[4, 8, 16], ratios=[1.0, 2.0, 3.0])),
    roi_head=dict(
        proposal_shared_head=half_width_res5,
        proposal_bbox_head=dict(in_channels=256),
        shared_head=half_width_res5,
        # 8x8 RoIs (4x4 after conv5): conv5 on the RoIs is most of the cost
        bbox_roi_extractor=dict(out_channels=128,
                                roi_layer=dict(output_size=8)),
        bbox_head=dict(in_channels=256),
        embedding_head=dict(in_channels=(128, 256),
                            loss_reid=dict(num_person_ids=300,
                                           queue_size=500))),
    train_cfg=dict(rpn_proposal=dict(nms_pre=2000, max_per_img=500),
                   rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(
        rpn=dict(nms_pre=1000, max_per_img=100),
        # SeqNet's CBGM context: the query images searched once more
        rcnn=dict(query_context=True)))

default_hooks = dict(logger=dict(interval=10))
randomness = dict(seed=0)

val_evaluator = dict(cws=True, cbgm=dict(k1=10, k2=3, context='seqnet'))
test_evaluator = val_evaluator
