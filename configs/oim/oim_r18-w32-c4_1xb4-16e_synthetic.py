# CPU quick start: OIM with a half-width ResNet-18 C4 (32 stem channels,
# "w32") trained from scratch (no pretrained weights are needed) on mmps'
# synthetic dataset, which is generated at data/synthetic/ on first use.
_base_ = [
    '../_base_/models/oim_r50-caffe-c4.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/schedule_synthetic_16e.py',
    '../_base_/default_runtime.py'
]

# from scratch: BN layers train, no stage is frozen, inputs normalised
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    # half width: 2.5x faster training iterations on a 2-core CPU than the
    # full-width ResNet-18, hence 3x the training identities in the same time
    backbone=dict(
        depth=18,
        base_channels=32,
        style='pytorch',
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=None),
    rpn_head=dict(
        in_channels=128,
        feat_channels=128,
        # persons: tall anchors only
        anchor_generator=dict(scales=[4, 8, 16], ratios=[1.0, 2.0, 3.0])),
    roi_head=dict(
        shared_head=dict(
            type='ScaledResLayer',
            depth=18,
            base_channels=32,
            style='pytorch',
            norm_cfg=norm_cfg,
            norm_eval=False,
            init_cfg=None),
        # 8x8 RoIs (4x4 after conv5) instead of 14x14: conv5 on the RoIs is
        # most of the cost on a CPU
        bbox_roi_extractor=dict(
            out_channels=128, roi_layer=dict(output_size=8)),
        bbox_head=dict(in_channels=256, roi_feat_size=4),
        # flattened 4x4 features keep the layout (upper / lower clothes);
        # BN after the projection: both measured to help from scratch
        embedding_head=dict(
            in_channels=256,
            with_avg_pool=False,
            roi_feat_size=4,
            norm_cfg=dict(type='BN1d'),
            # the generator's default number of training identities
            loss_reid=dict(num_person_ids=300, queue_size=500))),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=2000, max_per_img=500),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=100)))

default_hooks = dict(logger=dict(interval=10))
# a fixed seed (model initialisation, sampler, loader workers' augmentation)
randomness = dict(seed=0)
