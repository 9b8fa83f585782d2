# Runtime of mmps: mmdet's, in the mmps scope. The last checkpoint is the
# one to report on the test set, as the references report theirs; no
# checkpoint is chosen by a score (to keep the best one on the validation
# split, add save_best='mmps/mAP', rule='greater' to the checkpoint hook).
_base_ = ['mmdet::_base_/default_runtime.py']

default_scope = 'mmps'

# checkpoints load under torch's weights_only and must fit the model; they
# are written atomically (a killed run keeps its last complete checkpoint);
# the module path finds the runner with or without the mmps default scope
runner_type = 'mmps.engine.SafeCheckpointRunner'
# True loads only the weights of `load_from` that fit (e.g. to fine-tune
# from another dataset's model); resuming and tools/test.py stay strict
allow_partial_load = False

default_hooks = dict(
    checkpoint=dict(
        _scope_='mmps',
        type='AtomicCheckpointHook',
        interval=1,
        max_keep_ckpts=3))
custom_hooks = [
    # the OIM table must have one row per training identity of the dataset
    dict(type='NumPersonIdsCheckHook'),
    # checkpoints keep the random generators: --resume continues exactly
    dict(type='RandomStateHook'),
]
