# The SeqNet-style schedule of the person search configs (SeqNet's and NAE's
# recipe, which mmps' OIM configs share): SGD 0.003, warm-up over the first
# epoch, x0.1 at epoch 16, 20 epochs, gradient clipping at 10. Named apart
# from mmdet's schedule_20e.py, another recipe (lr 0.02, x0.1 at 16 and 19).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.001,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        begin=0,
        end=20,
        by_epoch=True,
        milestones=[16],
        gamma=0.1)
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.003, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=10, norm_type=2))

# the recipe's batch: 5 images on one GPU
auto_scale_lr = dict(enable=False, base_batch_size=5)
