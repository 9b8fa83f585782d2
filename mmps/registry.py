# Copyright (c) mmps contributors. All rights reserved.
"""mmps provides one registry node for each node of MMDetection.

Each node is a child of the MMDetection node of the same name, so a config
with ``default_scope='mmps'`` finds mmps modules first and every mmdet (and
MMEngine) module through the parents.

More details can be found at
https://mmengine.readthedocs.io/en/latest/tutorials/registry.html.
"""

from mmdet.registry import DATA_SAMPLERS as MMDET_DATA_SAMPLERS
from mmdet.registry import DATASETS as MMDET_DATASETS
from mmdet.registry import EVALUATOR as MMDET_EVALUATOR
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmdet.registry import LOG_PROCESSORS as MMDET_LOG_PROCESSORS
from mmdet.registry import LOOPS as MMDET_LOOPS
from mmdet.registry import METRICS as MMDET_METRICS
from mmdet.registry import MODEL_WRAPPERS as MMDET_MODEL_WRAPPERS
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMDET_OPTIM_WRAPPER_CONSTRUCTORS
from mmdet.registry import OPTIM_WRAPPERS as MMDET_OPTIM_WRAPPERS
from mmdet.registry import OPTIMIZERS as MMDET_OPTIMIZERS
from mmdet.registry import PARAM_SCHEDULERS as MMDET_PARAM_SCHEDULERS
from mmdet.registry import RUNNER_CONSTRUCTORS as MMDET_RUNNER_CONSTRUCTORS
from mmdet.registry import RUNNERS as MMDET_RUNNERS
from mmdet.registry import TASK_UTILS as MMDET_TASK_UTILS
from mmdet.registry import TRANSFORMS as MMDET_TRANSFORMS
from mmdet.registry import VISBACKENDS as MMDET_VISBACKENDS
from mmdet.registry import VISUALIZERS as MMDET_VISUALIZERS
from mmdet.registry import WEIGHT_INITIALIZERS as MMDET_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

# manage all kinds of runners like `EpochBasedRunner` and `IterBasedRunner`
RUNNERS = Registry(
    'runner', parent=MMDET_RUNNERS, scope='mmps', locations=['mmps.engine'])
# manage runner constructors that define how to initialize runners
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor',
    parent=MMDET_RUNNER_CONSTRUCTORS,
    scope='mmps',
    locations=['mmps.engine'])
# manage all kinds of loops like `EpochBasedTrainLoop`
LOOPS = Registry(
    'loop', parent=MMDET_LOOPS, scope='mmps', locations=['mmps.engine'])
# manage all kinds of hooks like `CheckpointHook`
HOOKS = Registry(
    'hook', parent=MMDET_HOOKS, scope='mmps', locations=['mmps.engine'])

# manage data-related modules
DATASETS = Registry(
    'dataset',
    parent=MMDET_DATASETS,
    scope='mmps',
    locations=['mmps.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMDET_DATA_SAMPLERS,
    scope='mmps',
    locations=['mmps.datasets'])
TRANSFORMS = Registry(
    'transform',
    parent=MMDET_TRANSFORMS,
    scope='mmps',
    locations=['mmps.datasets'])

# manage all kinds of modules inheriting `nn.Module`
MODELS = Registry(
    'model', parent=MMDET_MODELS, scope='mmps', locations=['mmps.models'])
# manage all kinds of model wrappers like 'MMDistributedDataParallel'
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMDET_MODEL_WRAPPERS,
    scope='mmps',
    locations=['mmps.models'])
# manage all kinds of weight initialization modules like `Uniform`
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMDET_WEIGHT_INITIALIZERS,
    scope='mmps',
    locations=['mmps.models'])

# manage all kinds of optimizers like `SGD` and `Adam`
OPTIMIZERS = Registry(
    'optimizer',
    parent=MMDET_OPTIMIZERS,
    scope='mmps',
    locations=['mmps.engine'])
# manage optimizer wrappers like `OptimWrapper` and `AmpOptimWrapper`
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMDET_OPTIM_WRAPPERS,
    scope='mmps',
    locations=['mmps.engine'])
# manage constructors that customize the optimization hyperparameters.
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer constructor',
    parent=MMDET_OPTIM_WRAPPER_CONSTRUCTORS,
    scope='mmps',
    locations=['mmps.engine'])
# manage all kinds of parameter schedulers like `MultiStepLR`
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMDET_PARAM_SCHEDULERS,
    scope='mmps',
    locations=['mmps.engine'])
# manage all kinds of metrics
METRICS = Registry(
    'metric',
    parent=MMDET_METRICS,
    scope='mmps',
    locations=['mmps.evaluation'])
# manage evaluator
EVALUATOR = Registry(
    'evaluator',
    parent=MMDET_EVALUATOR,
    scope='mmps',
    locations=['mmps.evaluation'])

# manage task-specific modules like anchor generators and box coders
TASK_UTILS = Registry(
    'task util',
    parent=MMDET_TASK_UTILS,
    scope='mmps',
    locations=['mmps.models'])

# manage visualizer
VISUALIZERS = Registry(
    'visualizer',
    parent=MMDET_VISUALIZERS,
    scope='mmps',
    locations=['mmps.visualization'])
# manage visualizer backend
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMDET_VISBACKENDS,
    scope='mmps',
    locations=['mmps.visualization'])

# manage logprocessor
LOG_PROCESSORS = Registry(
    'log_processor',
    parent=MMDET_LOG_PROCESSORS,
    scope='mmps',
    locations=['mmps.engine'])
