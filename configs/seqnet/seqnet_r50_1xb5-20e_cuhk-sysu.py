# SeqNet on CUHK-SYSU, SeqNet's recipe (configs/cuhk_sysu.yaml and
# defaults.py of serend1p1ty/SeqNet): torchvision's ResNet-50, 900/1500
# input, batch 5, SGD lr 0.003 with a one-epoch warm-up, x0.1 at epoch 16,
# 20 epochs, OIM with 5532 identities and a queue of 5000.
_base_ = [
    '../_base_/models/seqnet_r50-c4.py',
    '../_base_/datasets/cuhk_sysu_torchvision.py',
    '../_base_/schedules/schedule_person-search_20e.py',
    '../_base_/default_runtime.py'
]

# SeqNet fixes the weights of conv1 and bn1 (bn1 still normalises with the
# batch statistics in training)
# SeqNet's CBGM context: the query images are searched once more, with the
# query box forced among the detections
model = dict(test_cfg=dict(rcnn=dict(query_context=True)))

optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'backbone.conv1.': dict(lr_mult=0.0, decay_mult=0.0),
            'backbone.bn1.': dict(lr_mult=0.0, decay_mult=0.0)
        }))

# SeqNet's evaluation: similarities weighted by the detection score (CWS),
# and CBGM (k1=10, k2=3 on CUHK-SYSU) reported beside the plain numbers
val_evaluator = dict(cws=True, cbgm=dict(k1=10, k2=3, context='seqnet'))
test_evaluator = val_evaluator
