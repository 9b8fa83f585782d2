# NAE on PRW: the CUHK-SYSU recipe with OIM sized for PRW (483 training
# identities, a queue of 500).
_base_ = [
    '../_base_/models/nae_r50-c4.py', '../_base_/datasets/prw_torchvision.py',
    '../_base_/schedules/schedule_person-search_20e.py',
    '../_base_/default_runtime.py'
]

model = dict(
    roi_head=dict(
        embedding_head=dict(
            loss_reid=dict(num_person_ids=483, queue_size=500))))

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

val_evaluator = dict(cws=True)
test_evaluator = val_evaluator
