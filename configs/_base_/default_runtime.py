# Runtime of mmps: mmdet's, in the mmps scope, keeping the best search mAP.
_base_ = ['mmdet::_base_/default_runtime.py']

default_scope = 'mmps'

default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=3,
        save_best='mmps/mAP',
        rule='greater'))
custom_hooks = [
    # the OIM table must have one row per training identity of the dataset
    dict(type='NumPersonIdsCheckHook'),
    # checkpoints keep the random generators: --resume continues exactly
    dict(type='RandomStateHook'),
]
