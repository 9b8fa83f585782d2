# PRW with the input of torchvision's detection models (NAE, SeqNet), as
# in cuhk_sysu_torchvision.py.
_base_ = ['./prw.py']

dataset_type = 'PRWDataset'
data_root = 'data/PRW/'
# to [0, 1], RGB, ImageNet mean and std, then resized, in torchvision's
# order (the model's data preprocessor only pads)
torchvision_transform = dict(
    type='TorchvisionResize',
    min_size=900,
    max_size=1500,
    mean=[0.485, 0.456, 0.406],
    std=[0.229, 0.224, 0.225],
    to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    torchvision_transform,
    dict(type='PackPersonSearchInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    torchvision_transform,
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='PackPersonSearchInputs')
]

train_dataloader = dict(
    batch_sampler=None, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(datasets=[
        dict(
            type=dataset_type,
            data_root=data_root,
            split='gallery',
            test_mode=True,
            pipeline=test_pipeline),
        dict(
            type=dataset_type,
            data_root=data_root,
            split='query',
            test_mode=True,
            pipeline=test_pipeline),
    ]))
test_dataloader = val_dataloader
