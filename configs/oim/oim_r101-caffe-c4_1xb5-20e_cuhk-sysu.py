# OIM with a ResNet-101 C4 backbone; conv5 of the shared head is the same
# stage of ResNet-101.
_base_ = './oim_r50-caffe-c4_1xb5-20e_cuhk-sysu.py'

pretrained = 'open-mmlab://detectron2/resnet101_caffe'
model = dict(
    backbone=dict(
        depth=101, init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    roi_head=dict(
        shared_head=dict(
            depth=101, init_cfg=dict(type='Pretrained',
                                     checkpoint=pretrained))))
