# OIM with a ResNeXt-101 (32x4d) C4 backbone: conv5 of the shared head is
# the same grouped stage (ResNeXtLayer). The ImageNet weights are
# PyTorch-style, so images are normalised as torchvision does.
_base_ = './oim_r50-caffe-c4_1xb5-20e_cuhk-sysu.py'

pretrained = 'open-mmlab://resnext101_32x4d'
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNeXt',
        depth=101,
        groups=32,
        base_width=4,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    roi_head=dict(
        shared_head=dict(
            type='ResNeXtLayer',
            depth=101,
            groups=32,
            base_width=4,
            style='pytorch',
            init_cfg=dict(type='Pretrained', checkpoint=pretrained))))
