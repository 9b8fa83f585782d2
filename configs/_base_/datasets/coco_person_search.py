# A user's own footage in mmps' COCO-style custom format
# (docs/custom_dataset.md): images under data_root/images/, the training
# annotations in annotations/train.json, the gallery and the queries in
# annotations/test.json. Scored like PRW: the gallery of a query is every
# test image but its own.
_base_ = ['./cuhk_sysu.py']

dataset_type = 'CocoPersonSearchDataset'
data_root = 'data/my_footage/'

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/train.json'))
# the validation split is drawn from the training file's identities
val_dataloader = dict(
    dataset=dict(
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            ann_file='annotations/train.json')))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            ann_file='annotations/test.json')))

# set cross_camera=True in both when the images give cam_id
test_evaluator = dict(
    _delete_=True,
    type='PersonSearchMetric',
    protocol='prw',
    cross_camera=False)
