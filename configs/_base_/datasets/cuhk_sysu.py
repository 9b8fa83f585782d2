# CUHK-SYSU, read from its official files under data_root.
dataset_type = 'CUHKSYSUDataset'
data_root = 'data/CUHK-SYSU/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    # shorter side 900, longer side at most 1500, keeping the ratio
    dict(type='Resize', scale=(1500, 900), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPersonSearchInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1500, 900), keep_ratio=True),
    # after Resize: ground truth (and query boxes) stay in image coordinates
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='PackPersonSearchInputs')
]

train_dataloader = dict(
    batch_size=5,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline,
        backend_args=backend_args))
# the gallery images, then the queries: one test run scores the search
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(
                type=dataset_type,
                data_root=data_root,
                split='gallery',
                test_mode=True,
                pipeline=test_pipeline,
                backend_args=backend_args),
            dict(
                type=dataset_type,
                data_root=data_root,
                split='query',
                test_mode=True,
                pipeline=test_pipeline,
                backend_args=backend_args),
        ]))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='PersonSearchMetric',
    protocol='cuhk_sysu',
    data_root=data_root,
    gallery_sizes=(100, 50, 500, 1000, 2000, 4000, -1))
# the occlusion and low-resolution subsets of annotation/test/subset, as
# some papers report them, are added to the test with
#   --cfg-options "test_evaluator.subsets=[occlusion,resolution]"
test_evaluator = val_evaluator
