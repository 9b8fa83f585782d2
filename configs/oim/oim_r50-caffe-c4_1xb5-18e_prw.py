# OIM on PRW: the CUHK-SYSU recipe with PRW's 483 distinct training ids
# (the table is sized from the data, not 482), a queue of 500, 18 epochs.
_base_ = [
    '../_base_/models/oim_r50-caffe-c4.py', '../_base_/datasets/prw.py',
    '../_base_/schedules/schedule_person-search_20e.py',
    '../_base_/default_runtime.py'
]

model = dict(
    roi_head=dict(
        embedding_head=dict(
            loss_reid=dict(num_person_ids=483, queue_size=500))))

train_cfg = dict(max_epochs=18)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.001,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(type='MultiStepLR', begin=0, end=18, by_epoch=True, milestones=[16])
]
