# PRW, read from its official files under data_root.
_base_ = ['./cuhk_sysu.py']

dataset_type = 'PRWDataset'
data_root = 'data/PRW/'

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(
    dataset=dict(dataset=dict(type=dataset_type, data_root=data_root)))
test_dataloader = dict(
    dataset=dict(dataset=dict(type=dataset_type, data_root=data_root)))

# validation: PRW's cameras, all and the other ones only
val_evaluator = dict(cross_camera=True)
# the test: all cameras, and the other cameras only, as papers report both
test_evaluator = dict(
    _delete_=True,
    type='PersonSearchMetric',
    protocol='prw',
    cross_camera=True)
