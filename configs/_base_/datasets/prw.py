# PRW, read from its official files under data_root.
_base_ = ['./cuhk_sysu.py']

dataset_type = 'PRWDataset'
data_root = 'data/PRW/'
test_pipeline = {{_base_.test_pipeline}}

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
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

# all cameras, and the other cameras only, as papers report both
val_evaluator = dict(
    _delete_=True,
    type='PersonSearchMetric',
    protocol='prw',
    cross_camera=True)
test_evaluator = val_evaluator
