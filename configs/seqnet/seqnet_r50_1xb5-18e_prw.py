# SeqNet on PRW, SeqNet's recipe (configs/prw.yaml): the CUHK-SYSU recipe
# with 18 epochs and OIM with a queue of 500. The lookup table has a row for
# each of PRW's 483 training identities (SeqNet's config says 482).
_base_ = [
    '../_base_/models/seqnet_r50-c4.py',
    '../_base_/datasets/prw_torchvision.py',
    '../_base_/schedules/schedule_person-search_20e.py',
    '../_base_/default_runtime.py'
]

model = dict(
    roi_head=dict(
        embedding_head=dict(
            loss_reid=dict(num_person_ids=483, queue_size=500))),
    # SeqNet's CBGM context: the query images are searched once more
    test_cfg=dict(rcnn=dict(query_context=True)))

optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'backbone.conv1.': dict(lr_mult=0.0, decay_mult=0.0),
            'backbone.bn1.': dict(lr_mult=0.0, decay_mult=0.0)
        }))

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

# CWS, and CBGM with SeqNet's PRW setting (k1=30, k2=4)
val_evaluator = dict(cws=True, cbgm=dict(k1=30, k2=4, context='seqnet'))
test_evaluator = val_evaluator
