# The CPU quick start's schedule on the synthetic data: 16 epochs, lr 0.02
# (batch 4 from scratch), warm-up over the first epoch, x0.1 at epoch 12,
# an evaluation every 4 epochs.
_base_ = ['./schedule_person-search_20e.py']

train_cfg = dict(max_epochs=16, val_interval=4)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(type='MultiStepLR', begin=0, end=16, by_epoch=True, milestones=[12])
]
optim_wrapper = dict(optimizer=dict(lr=0.02))
