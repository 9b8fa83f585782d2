# The CPU quick start on small persons: mmps' synthetic data with persons 17%
# to 58% of the image height (about 40 to 140 px in 320 x 240 scenes, as in
# real footage) instead of 35% to 80%, and anchors that reach them.
_base_ = ['./oim_r18-w32-c4_1xb4-16e_synthetic.py']

data_root = 'data/synthetic-small/'
synthetic_cfg = dict(seed=0, person_height=(0.17, 0.58))
small_persons = dict(data_root=data_root, synthetic_cfg=synthetic_cfg)

model = dict(
    rpn_head=dict(
        # stride 16: anchors from 32 px tall (scale 2, ratio 1; 45 px at
        # ratio 2) up, where the quick start's start at 64 px (scale 4)
        anchor_generator=dict(scales=[2, 4, 8, 16])))

train_dataloader = dict(dataset=small_persons)
val_dataloader = dict(dataset=dict(dataset=small_persons))
test_dataloader = dict(dataset=dict(dataset=small_persons))
