# OIM on CUHK-SYSU as the paper trains it: the recipe of its Caffe code
# (ShuangLI59/person_search) and of the PyTorch reimplementation
# serend1p1ty/person_search, as far as mmdet allows. Beside the SeqNet-style
# recipe of oim_r50-caffe-c4_1xb5-20e_cuhk-sysu.py, which it inherits:
# - images: shorter side 600, longer side at most 1000; one image per
#   iteration, gradients of 2 iterations accumulated (Caffe's iter_size 2);
# - SGD lr 0.001, momentum 0.9, weight decay 5e-4 (none on biases and BN),
#   biases at twice the learning rate; 50k updates (100k iterations of one
#   image), x0.1 after 40k; no warm-up, no gradient clipping;
# - BatchNorm of the backbone frozen, that of the conv5 head trained; the
#   stem conv frozen, res2 trained (serend1p1ty/person_search);
# - RPN anchors of 128, 256 and 512 px at ratios 0.5, 1, 2;
# - 128 RoIs per image, a quarter positive, negatives IoU in [0, 0.5);
# - RoIPool 14x14 (mmcv's RoIPool has no CPU kernel: this config trains and
#   tests on a GPU only);
# - OIM scale 10, the lookup table updated one RoI after the other;
# - gallery embeddings of the proposals (one pass, carried through NMS).
# Not matched: the Caffe net pools after res4_3 and runs res4_4-6 with res5
# on the RoIs, where mmdet's C4 head is res5 only (a ResNet stage cannot be
# split by config); mmdet filters RPN proposals by size in input pixels, the
# Caffe code at 16 px of the original image; the Caffe GPU layer's queue
# writes only the first 64 of 256 values (a bug, not copied).
_base_ = ['./oim_r50-caffe-c4_1xb5-20e_cuhk-sysu.py']

model = dict(
    backbone=dict(
        frozen_stages=0,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True),
    rpn_head=dict(
        anchor_generator=dict(scales=[8, 16, 32], ratios=[0.5, 1.0, 2.0])),
    roi_head=dict(
        shared_head=dict(
            norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False),
        bbox_roi_extractor=dict(
            roi_layer=dict(_delete_=True, type='RoIPool', output_size=14)),
        embedding_head=dict(
            loss_reid=dict(scale=10.0, table_update='sequential'))),
    train_cfg=dict(
        rcnn=dict(
            assigner=dict(neg_iou_thr=0.5),
            sampler=dict(num=128, pos_fraction=0.25))),
    test_cfg=dict(rcnn=dict(embedding_rois='proposals')))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1000, 600), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPersonSearchInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=(1000, 600), keep_ratio=True),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='PackPersonSearchInputs')
]
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(dataset=dict(pipeline=test_pipeline)))
test_dataloader = dict(dataset=dict(dataset=dict(pipeline=test_pipeline)))

# 100k iterations of one image = 50k updates of 2 accumulated images
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=100000,
    val_interval=10000)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=100000,
        by_epoch=False,
        milestones=[80000],
        gamma=0.1)
]
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    accumulative_counts=2,
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(
        bias_lr_mult=2.0, bias_decay_mult=0.0, norm_decay_mult=0.0))
auto_scale_lr = dict(enable=False, base_batch_size=2)

default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(by_epoch=False, interval=10000))
log_processor = dict(by_epoch=False)
