# mmps' built-in synthetic dataset, in CUHK-SYSU's raw format: generated at
# data_root on first use (about 5 s), then read by the CUHK-SYSU loader and
# scored with the CUHK-SYSU protocol (gallery size 50); validated on 30 of
# the training identities (see cuhk_sysu.py).
_base_ = ['./cuhk_sysu.py']

dataset_type = 'SyntheticCUHKSYSUDataset'
data_root = 'data/synthetic/'
# fields of mmps.datasets.synthetic.SyntheticConfig
synthetic_cfg = dict(seed=0)
image_scale = (320, 240)
# 30 of the 300 training identities validate, with 40 distractor images
val_split = dict(num_ids=30, num_distractor_images=40)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPersonSearchInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='PackPersonSearchInputs')
]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        synthetic_cfg=synthetic_cfg,
        val_split=val_split,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    dataset=dict(
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            synthetic_cfg=synthetic_cfg,
            val_split=val_split,
            pipeline=test_pipeline)))
test_dataloader = dict(
    batch_size=4,
    dataset=dict(
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            synthetic_cfg=synthetic_cfg,
            pipeline=test_pipeline)))

test_evaluator = dict(gallery_sizes=(50, ))
