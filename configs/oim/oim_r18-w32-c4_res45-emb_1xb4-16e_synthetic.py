# The CPU quick start with the embedding of NAE's and SeqNet's code instead of
# OIM's: the RoIAlign features (res4) and the conv5 head's (res5), each
# max-pooled and projected by a linear layer and a BatchNorm to half of the
# 256 channels, concatenated and L2-normalised.
_base_ = ['./oim_r18-w32-c4_1xb4-16e_synthetic.py']

model = dict(
    roi_head=dict(
        embedding_head=dict(
            _delete_=True,
            type='MultiInputEmbeddingHead',
            in_channels=(128, 256),
            embed_channels=256,
            loss_reid=dict(
                type='OIMLoss',
                num_person_ids=300,
                num_features=256,
                queue_size=500,
                momentum=0.5,
                scale=30.0,
                loss_weight=1.0))))
