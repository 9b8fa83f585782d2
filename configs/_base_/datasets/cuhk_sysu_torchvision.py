# CUHK-SYSU with the input of torchvision's detection models (NAE, SeqNet,
# torchvision_pipelines.py).
_base_ = ['./cuhk_sysu.py', './torchvision_pipelines.py']

dataset_type = 'CUHKSYSUDataset'
data_root = 'data/CUHK-SYSU/'
train_pipeline = {{_base_.torchvision_train_pipeline}}
test_pipeline = {{_base_.torchvision_test_pipeline}}

# NAE and SeqNet batch images in any order (no aspect ratio grouping)
train_dataloader = dict(
    batch_sampler=None, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(dataset=dict(data_root=data_root, pipeline=test_pipeline)))
test_dataloader = dict(
    dataset=dict(dataset=dict(data_root=data_root, pipeline=test_pipeline)))
