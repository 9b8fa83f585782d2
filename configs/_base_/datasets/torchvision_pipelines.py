# The input of torchvision's detection models (NAE, SeqNet): images decoded
# by Pillow (their loaders use PIL), flipped, then converted to [0, 1], RGB,
# normalised with ImageNet's mean and std and resized as
# GeneralizedRCNNTransform does (bilinear on the float image, shorter side
# 900, longer side at most 1500, sizes rounded down), in torchvision's
# order; the model's data preprocessor only pads. Dataset bases take these
# pipelines (cuhk_sysu_torchvision.py, prw_torchvision.py).
torchvision_transform = dict(
    type='TorchvisionResize',
    min_size=900,
    max_size=1500,
    mean=[0.485, 0.456, 0.406],
    std=[0.229, 0.224, 0.225],
    to_rgb=True)
torchvision_train_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    torchvision_transform,
    dict(type='PackPersonSearchInputs')
]
torchvision_test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    torchvision_transform,
    # after the resize: ground truth (and query boxes) stay in image
    # coordinates
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='PackPersonSearchInputs')
]
