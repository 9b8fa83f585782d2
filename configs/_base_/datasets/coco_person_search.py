# A user's own footage in mmps' COCO-style custom format
# (docs/custom_dataset.md): images under data_root/images/, the training
# annotations in annotations/train.json, the gallery and the queries in
# annotations/test.json. Scored like PRW: the gallery of a query is every
# test image but its own.
_base_ = ['./cuhk_sysu.py']

dataset_type = 'CocoPersonSearchDataset'
data_root = 'data/my_footage/'
test_pipeline = {{_base_.test_pipeline}}

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/train.json'))
val_dataloader = dict(
    dataset=dict(datasets=[
        dict(
            type=dataset_type,
            data_root=data_root,
            ann_file='annotations/test.json',
            split='gallery',
            test_mode=True,
            pipeline=test_pipeline),
        dict(
            type=dataset_type,
            data_root=data_root,
            ann_file='annotations/test.json',
            split='query',
            test_mode=True,
            pipeline=test_pipeline),
    ]))
test_dataloader = val_dataloader

# set cross_camera=True when the images give cam_id
val_evaluator = dict(
    _delete_=True,
    type='PersonSearchMetric',
    protocol='prw',
    cross_camera=False)
test_evaluator = val_evaluator
