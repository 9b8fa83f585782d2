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
# the test: the gallery images, then the queries, as one run
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='GalleryQueryDataset',
        split='test',
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            pipeline=test_pipeline,
            backend_args=backend_args)))
# validation: a seeded 5% of the training identities as queries and
# gallery (mmps.datasets.validation_split), scored like PRW (every gallery
# image but the query's own); the test set is never used to choose a
# checkpoint. Set train_dataloader.dataset.holdout_val=True (and the OIM
# table to the identities left) to validate on identities never trained on.
val_dataloader = dict(
    test_dataloader, dataset=dict(test_dataloader['dataset'], split='val'))

val_evaluator = dict(
    type='PersonSearchMetric', protocol='prw', cross_camera=False)
# the galleries: the TestG{N}.mat files of the tested dataset's data_root
test_evaluator = dict(
    type='PersonSearchMetric',
    protocol='cuhk_sysu',
    gallery_sizes=(100, 50, 500, 1000, 2000, 4000, -1))
# the occlusion and low-resolution subsets of annotation/test/subset, as
# some papers report them, are added to the test with
#   --cfg-options "test_evaluator.subsets=[occlusion,resolution]"
