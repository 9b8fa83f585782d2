# NAE on CUHK-SYSU, NAE's recipe (dichen-cd/NAE4PS: README's training
# command and configs/res50_faster_rcnn.py): torchvision's ResNet-50,
# 900/1500 input, batch 5, SGD lr 0.003 with warm-up, x0.1 at epoch 16,
# 22 epochs, box regression loss weight 10, OIM 5532/5000.
_base_ = [
    '../_base_/models/nae_r50-c4.py',
    '../_base_/datasets/cuhk_sysu_torchvision.py',
    '../_base_/schedules/schedule_person-search_20e.py',
    '../_base_/default_runtime.py'
]

# NAE fixes the weights of conv1 and bn1
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'backbone.conv1.': dict(lr_mult=0.0, decay_mult=0.0),
            'backbone.bn1.': dict(lr_mult=0.0, decay_mult=0.0)
        }))

train_cfg = dict(max_epochs=22)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.001,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(type='MultiStepLR', begin=0, end=22, by_epoch=True, milestones=[16])
]

# NAE's evaluation weights similarities by the detection score (CWS)
val_evaluator = dict(cws=True)
test_evaluator = val_evaluator
