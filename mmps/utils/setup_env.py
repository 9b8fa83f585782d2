# Copyright (c) mmps contributors. All rights reserved.
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register all modules of mmps (and mmdet) into the registries.

    mmps' registries are children of mmdet's, so mmdet's modules are
    registered too (in mmdet's scope) and stay reachable from the ``mmps``
    scope through the parent registries.

    Args:
        init_default_scope (bool): Whether to set the global default scope to
            ``mmps``. When ``True``, registries look up modules in mmps
            first. Defaults to True.
    """
    from mmdet.utils import register_all_modules as register_mmdet_modules

    import mmps.datasets  # noqa: F401,F403
    import mmps.engine  # noqa: F401,F403
    import mmps.evaluation  # noqa: F401,F403
    import mmps.models  # noqa: F401,F403
    import mmps.visualization  # noqa: F401,F403
    register_mmdet_modules(init_default_scope=False)

    if init_default_scope:
        never_created = DefaultScope.get_current_instance() is None \
            or not DefaultScope.check_instance_created('mmps')
        if never_created:
            DefaultScope.get_instance('mmps', scope_name='mmps')
            return
        current_scope = DefaultScope.get_current_instance()
        if current_scope.scope_name != 'mmps':
            warnings.warn('The current default scope '
                          f'"{current_scope.scope_name}" is not "mmps", '
                          '`register_all_modules` will force the current '
                          'default scope to be "mmps". If this is not '
                          'expected, please set `init_default_scope=False`.')
            # avoid name conflict
            new_instance_name = f'mmps-{datetime.datetime.now()}'
            DefaultScope.get_instance(new_instance_name, scope_name='mmps')


def fall_back_to_gloo(cfg) -> None:
    """Make distributed training and testing run without a GPU.

    mmengine's default runtime asks for the ``nccl`` backend, which needs
    CUDA, and wraps the model in DDP with ``device_ids=[LOCAL_RANK]``,
    which DDP refuses for a CPU model; its ``init_dist`` also calls
    ``torch.cuda.set_device``, which a CPU build of torch lacks. On a
    machine without CUDA the backend becomes ``gloo``, the wrapper gets
    ``device_ids=None`` and, for the ``pytorch`` launcher (torchrun), the
    process group is initialised here, so that the runner finds it ready.
    Nothing changes where CUDA is available.

    Args:
        cfg (:obj:`mmengine.Config`): The config, changed in place.
    """
    import torch
    import torch.distributed as torch_dist
    if torch.cuda.is_available():
        return
    if cfg.get('env_cfg') is None:
        cfg.env_cfg = dict()
    if cfg.env_cfg.get('dist_cfg') is None:
        cfg.env_cfg.dist_cfg = dict()
    dist_cfg = cfg.env_cfg.dist_cfg
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg.backend = 'gloo'
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))

    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch_dist.is_initialized():
        return
    if launcher != 'pytorch':
        raise RuntimeError(
            f'Distributed launcher {launcher!r} needs CUDA (mmengine sets '
            'the CUDA device for it); without a GPU, launch with torchrun '
            '(tools/dist_train.sh, tools/dist_test.sh), i.e. '
            "launcher='pytorch'.")
    kwargs = {k: v for k, v in dist_cfg.items() if k != 'backend'}
    if kwargs.get('timeout') is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
    torch_dist.init_process_group(backend=dist_cfg['backend'], **kwargs)
