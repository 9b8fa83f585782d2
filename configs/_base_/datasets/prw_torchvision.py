# PRW with the input of torchvision's detection models (NAE, SeqNet,
# torchvision_pipelines.py).
_base_ = ['./prw.py', './torchvision_pipelines.py']

dataset_type = 'PRWDataset'
data_root = 'data/PRW/'
train_pipeline = {{_base_.torchvision_train_pipeline}}
test_pipeline = {{_base_.torchvision_test_pipeline}}

train_dataloader = dict(
    batch_sampler=None, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(dataset=dict(data_root=data_root, pipeline=test_pipeline)))
test_dataloader = dict(
    dataset=dict(dataset=dict(data_root=data_root, pipeline=test_pipeline)))
