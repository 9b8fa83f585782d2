# OIM on CUHK-SYSU: ResNet-50 C4, RoIAlign 14x14, 256-d embedding, OIM
# with 5532 identities, a queue of 5000, momentum 0.5 and scale 30.
_base_ = [
    '../_base_/models/oim_r50-caffe-c4.py', '../_base_/datasets/cuhk_sysu.py',
    '../_base_/schedules/schedule_person-search_20e.py',
    '../_base_/default_runtime.py'
]
