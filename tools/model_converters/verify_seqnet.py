# Copyright (c) mmps contributors. All rights reserved.
"""Check that a converted SeqNet checkpoint gives, in mmps, SeqNet's outputs.

    python tools/model_converters/verify_seqnet.py \\
        --seqnet-root PATH/TO/SeqNet --seqnet-python PATH/TO/venv/bin/python

SeqNet (github.com/serend1p1ty/SeqNet) needs torchvision, whose compiled
ops do not load beside mmps' CPU build of torch; ``--seqnet-python`` is an
interpreter of another environment that has torch, torchvision and yacs
(e.g. ``pip install "torch===2.13.0" torchvision==0.28.0 yacs``). This
script runs itself there (``--reference``) to build SeqNet with random
weights (``--checkpoint`` to use a real one), save its checkpoint and run
it on the images; then, in mmps' environment, it converts the checkpoint
with ``seqnet2mmps.py``, runs mmps' SeqNet config through
``PersonSearcher`` on the same image files and compares:

- gallery detections: same count, boxes within 0.01 px, scores within
  1e-4, embeddings with cosine >= 0.9999 to SeqNet's (SeqNet's are
  multiplied by the score, CWS; that factor is removed first);
- query embeddings (a query box of each image): cosine >= 0.9999;
- SeqNet's CBGM context of each query (the query image searched with the
  query box forced in): the same persons, in the same order.

The images are SeqNet's ``demo_imgs`` and generated images of several
sizes and aspect ratios, so the resize path is checked on sizes the
network does not take as they are. It prints one line per image and a
summary, and exits with 1 if anything differs.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile

import numpy as np

#: Tolerances of the comparison.
BOX_ATOL = 0.01
SCORE_ATOL = 1e-4
MIN_COSINE = 0.9999
#: Generated test images: (height, width).
GENERATED_SIZES = [(480, 640), (853, 480), (375, 1100), (1024, 768),
                   (301, 299)]


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(
        description='Compare mmps with SeqNet on a converted checkpoint')
    parser.add_argument(
        '--seqnet-root', required=True, help='a checkout of SeqNet')
    parser.add_argument(
        '--seqnet-python',
        default=sys.executable,
        help='python of an environment with torch, torchvision and yacs')
    parser.add_argument(
        '--checkpoint',
        help='a SeqNet checkpoint; without, one with random weights is made')
    parser.add_argument(
        '--config',
        default=osp.join(
            osp.dirname(__file__), '..', '..',
            'configs/seqnet/seqnet_r50_1xb5-20e_cuhk-sysu.py'),
        help='the mmps config of the converted checkpoint')
    parser.add_argument('--work-dir', help='where to keep the files')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--reuse-reference',
        action='store_true',
        help='keep SeqNet\'s outputs and checkpoint from an earlier run in '
        '--work-dir (run mmps\' side only)')
    parser.add_argument(
        '--reference',
        action='store_true',
        help='(internal) run SeqNet; in SeqNet\'s environment')
    return parser.parse_args()


# --------------------------------------------------------------------------
# SeqNet's side, in SeqNet's environment: no mmps import here.
# --------------------------------------------------------------------------


def randomise(model, images: list, seed: int) -> None:
    """Random weights whose detections are not degenerate.

    torchvision's initialisation with BatchNorm statistics of 0 and 1 lets
    activations grow through the ResNet until every score saturates. Here
    the BatchNorms get random affine parameters and statistics measured on
    the test images (one training-mode pass), the RPN logits and the
    stage-1 person logits are scaled to spread around their thresholds
    without saturating (a score of exactly 1.0 ties with others, and
    torchvision on the CPU orders proposals that tie by an unstable sort,
    on the GPU by logit, as mmps does), and both box regressions move boxes
    by about a tenth of their size, so that a mistake in any part changes
    the outputs.

    Args:
        model (nn.Module): SeqNet, built without pretrained weights.
        images (list[Tensor]): Calibration images, (3, H, W) in [0, 1].
        seed (int): Random seed.
    """
    import torch
    generator = torch.Generator().manual_seed(seed)

    def normal(shape, std):
        return torch.randn(shape, generator=generator) * std

    norms = [
        m for m in model.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    ]
    heads = model.roi_heads
    with torch.no_grad():
        for norm in norms:
            size = norm.num_features
            norm.weight.copy_(
                torch.rand(size, generator=generator) * 0.6 + 0.7)
            norm.bias.copy_(normal(size, 0.05))
            norm.reset_running_stats()
            norm.momentum = None  # cumulative average over the pass
        for table in (heads.reid_loss.lut, heads.reid_loss.cq):
            table.copy_(
                torch.nn.functional.normalize(normal(table.shape, 1), dim=1))
        # statistics of the test images: a training-mode pass, two persons
        # each (one labeled, one not)
        model.train()
        targets = []
        for image in images:
            height, width = image.shape[-2:]
            boxes = torch.tensor(
                [[0.2 * width, 0.1 * height, 0.4 * width, 0.8 * height],
                 [0.6 * width, 0.3 * height, 0.75 * width, 0.9 * height]])
            targets.append(dict(boxes=boxes, labels=torch.tensor([1, 5555])))
        model(images, targets)
        model.eval()
        for norm in norms:
            norm.momentum = 0.1
        # spread the RPN logits (std about 3: none saturates) and the
        # stage-1 person logits
        rpn = model.rpn.head
        transformed, _ = model.transform(images[:1])
        features = model.backbone(transformed.tensors)
        hidden = rpn.conv(list(features.values())[0])
        scale = 1.0 / float(hidden.norm(dim=1).mean())
        rpn.cls_logits.weight.copy_(
            normal(rpn.cls_logits.weight.shape, scale))
        # the largest logit 8: no sigmoid reaches 1.0
        logits = rpn.cls_logits(hidden)
        rpn.cls_logits.weight.mul_(8.0 / float(logits.abs().max()))
        rpn.cls_logits.bias.zero_()
        rpn.bbox_pred.weight.copy_(
            normal(rpn.bbox_pred.weight.shape, 0.2 * scale))
        proposals, _ = model.rpn(transformed, features)
        pooled = heads.box_head(
            heads.box_roi_pool(features, proposals,
                               transformed.image_sizes))['feat_res5']
        pooled = pooled.flatten(1)
        predictor = heads.faster_rcnn_predictor
        scale = 1.0 / float(pooled.norm(dim=1).mean())
        predictor.cls_score.weight.copy_(
            normal(predictor.cls_score.weight.shape, 3 * scale))
        logits = pooled @ predictor.cls_score.weight.T
        margin = logits[:, 1] - logits[:, 0]
        # margins within +-8 of their threshold: no softmax reaches 1.0
        shrink = min(1.0, 8.0 / float((margin - margin.median()).abs().max()))
        predictor.cls_score.weight.mul_(shrink)
        margin = margin * shrink
        # about a quarter of the proposals score above 0.5
        predictor.cls_score.bias.copy_(
            torch.tensor([float(margin.quantile(0.75)), 0.0]))
        predictor.bbox_pred.weight.copy_(
            normal(predictor.bbox_pred.weight.shape, 0.5 * scale))
        neck = heads.box_predictor.bbox_pred
        neck[0].weight.copy_(normal(neck[0].weight.shape, 0.5 * scale))
        neck[1].running_mean.zero_()
        neck[1].running_var.fill_(1.0)
        neck[1].weight.copy_(torch.rand(8, generator=generator) * 0.5 + 0.5)


def run_reference(args, images: list, boxes: list, checkpoint: str,
                  out: str) -> None:
    """Build (or load) SeqNet, save its checkpoint, run it on the images."""
    import torch
    import torchvision.transforms.functional as TF
    from PIL import Image
    sys.path.insert(0, args.seqnet_root)
    import models.seqnet as seqnet_module
    from defaults import get_default_cfg

    build_resnet = seqnet_module.build_resnet

    def without_download(name='resnet50', pretrained=True):
        return build_resnet(name, pretrained=False)

    seqnet_module.build_resnet = without_download
    torch.manual_seed(args.seed)
    model = seqnet_module.SeqNet(get_default_cfg())
    tensors = [
        TF.to_tensor(Image.open(path).convert('RGB')) for path in images
    ]
    if args.checkpoint:
        state = torch.load(args.checkpoint, map_location='cpu')
        model.load_state_dict(state['model'])
    else:
        randomise(model, tensors, args.seed)
        torch.save(dict(model=model.state_dict(), epoch=0), checkpoint)
    model.eval()
    arrays = {}
    with torch.no_grad():
        for i, (image, box) in enumerate(zip(tensors, boxes)):
            target = [dict(boxes=torch.tensor([box], dtype=torch.float32))]
            gallery = model([image])[0]
            query = model([image], [dict(t) for t in target])[0]
            context = model([image], [dict(t) for t in target],
                            query_img_as_gallery=True)[0]
            arrays.update({
                f'{i}_boxes':
                gallery['boxes'].numpy(),
                f'{i}_scores':
                gallery['scores'].numpy(),
                f'{i}_embeddings':
                gallery['embeddings'].numpy(),
                f'{i}_query':
                query.numpy(),
                f'{i}_context_boxes':
                context['boxes'].numpy(),
                f'{i}_context_scores':
                context['scores'].numpy(),
                f'{i}_context_embeddings':
                context['embeddings'].numpy(),
            })
    np.savez(out, **arrays)


# --------------------------------------------------------------------------
# mmps' side.
# --------------------------------------------------------------------------


def make_images(folder: str, seed: int, seqnet_root: str) -> tuple:
    """Test images (SeqNet's demo images and generated ones) and a query
    box in each."""
    import cv2
    rng = np.random.default_rng(seed)
    images = []
    demo = osp.join(seqnet_root, 'demo_imgs')
    if osp.isdir(demo):
        images += [
            osp.join(demo, name) for name in sorted(os.listdir(demo))
            if name.endswith('.jpg') and name != 'demo.jpg'
        ]
    for height, width in GENERATED_SIZES:
        # smooth colour fields with rectangles, saved losslessly
        small = rng.uniform(0, 255, (height // 16 + 2, width // 16 + 2, 3))
        image = cv2.resize(small, (width, height))
        for _ in range(6):
            x, y = rng.integers(0, width - 20), rng.integers(0, height - 40)
            w, h = rng.integers(10, width // 4), rng.integers(30, height // 2)
            image[y:y + h, x:x + w] = rng.uniform(0, 255, 3)
        path = osp.join(folder, f'generated_{height}x{width}.png')
        cv2.imwrite(path, image.clip(0, 255).astype(np.uint8))
        images.append(path)
    boxes = []
    for path in images:
        height, width = cv2.imread(path).shape[:2]
        boxes.append([
            0.3 * width, 0.2 * height, 0.3 * width + 0.2 * width,
            0.2 * height + 0.5 * height
        ])
    return images, boxes


def compare(name: str, ours: dict, theirs: dict) -> list:
    """Differences between mmps' and SeqNet's outputs of one image."""
    problems = []
    for prefix in ('', 'context_'):
        boxes, scores = ours[f'{prefix}boxes'], ours[f'{prefix}scores']
        ref_boxes = theirs[f'{prefix}boxes']
        ref_scores = theirs[f'{prefix}scores']
        what = 'context' if prefix else 'detections'
        if len(boxes) != len(ref_boxes):
            problems.append(f'{what}: {len(boxes)} in mmps, '
                            f'{len(ref_boxes)} in SeqNet')
            continue
        if not len(boxes):
            continue
        box_error = np.abs(boxes - ref_boxes).max()
        score_error = np.abs(scores - ref_scores).max()
        ref_embeddings = theirs[f'{prefix}embeddings']
        if not prefix:  # SeqNet's gallery embeddings carry CWS
            ref_embeddings = ref_embeddings / ref_scores[:, None]
        cosine = np.sum(
            ours[f'{prefix}embeddings'] * ref_embeddings, axis=1) / (
                np.linalg.norm(ours[f'{prefix}embeddings'], axis=1) *
                np.linalg.norm(ref_embeddings, axis=1))
        if box_error > BOX_ATOL:
            problems.append(f'{what}: boxes differ by {box_error:.4f} px')
        if score_error > SCORE_ATOL:
            problems.append(f'{what}: scores differ by {score_error:.2e}')
        if cosine.min() < MIN_COSINE:
            problems.append(f'{what}: embedding cosine {cosine.min():.6f}')
        ours[f'{prefix}worst'] = (box_error, score_error, cosine.min())
    query_cosine = float(
        ours['query'] @ theirs['query'][0] /
        (np.linalg.norm(ours['query']) * np.linalg.norm(theirs['query'][0])))
    if query_cosine < MIN_COSINE:
        problems.append(f'query embedding cosine {query_cosine:.6f}')
    ours['query_cosine'] = query_cosine
    return problems


def run_mmps(config: str, checkpoint: str, images: list, boxes: list) -> list:
    """mmps' detections, query embeddings and query contexts."""
    import torch

    from mmps.apis import PersonSearcher
    from mmps.utils.warning_filters import ignore_pkg_resources_warning
    ignore_pkg_resources_warning()
    searcher = PersonSearcher(config, checkpoint, batch_size=1)
    index = searcher.build_index(images, progress=False)
    queries = searcher.embed_queries(images, np.array(boxes))
    # SeqNet's CBGM context pass, which PersonSearcher leaves out
    searcher.model.roi_head.test_cfg.query_context = True
    outputs = []
    for i, (path, box) in enumerate(zip(images, boxes)):
        data = searcher.pipeline(
            dict(
                img_path=path,
                img_id=i,
                is_query=True,
                instances=[
                    dict(bbox=box, bbox_label=0, person_id=-1, ignore_flag=0)
                ]))
        with torch.no_grad():
            sample = searcher.model.test_step(
                dict(
                    inputs=[data['inputs']],
                    data_samples=[data['data_samples']]))[0]
        context = sample.context_instances
        rows = index.image_index == i
        outputs.append(
            dict(
                boxes=index.bboxes[rows],
                scores=index.scores[rows],
                embeddings=index.embeddings[rows],
                query=queries[i],
                context_boxes=context.bboxes.numpy(),
                context_scores=context.scores.numpy(),
                context_embeddings=context.embeddings.numpy()))
    return outputs


def main():
    """Run SeqNet and mmps on the same images and compare."""
    args = parse_args()
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='verify_seqnet_')
    os.makedirs(work_dir, exist_ok=True)
    job = osp.join(work_dir, 'job.json')
    seqnet_checkpoint = args.checkpoint or osp.join(work_dir,
                                                    'seqnet_random.pth')
    reference = osp.join(work_dir, 'seqnet_outputs.npz')
    if args.reference:
        with open(job) as f:
            spec = json.load(f)
        run_reference(args, spec['images'], spec['boxes'], seqnet_checkpoint,
                      reference)
        return
    images, boxes = make_images(work_dir, args.seed, args.seqnet_root)
    with open(job, 'w') as f:
        json.dump(dict(images=images, boxes=boxes), f)
    command = [
        args.seqnet_python,
        osp.abspath(__file__), '--reference', '--seqnet-root',
        args.seqnet_root, '--work-dir', work_dir, '--seed',
        str(args.seed)
    ] + (['--checkpoint', args.checkpoint] if args.checkpoint else [])
    if not (args.reuse_reference and osp.isfile(reference)):
        subprocess.run(command, check=True)
    converted = osp.join(work_dir, 'seqnet_mmps.pth')
    subprocess.run([
        sys.executable,
        osp.join(osp.dirname(osp.abspath(__file__)), 'seqnet2mmps.py'),
        seqnet_checkpoint, converted
    ],
                   check=True)
    ours = run_mmps(args.config, converted, images, boxes)
    theirs = np.load(reference)
    failures = 0
    for i, path in enumerate(images):
        ref = {
            key[len(f'{i}_'):]: theirs[key]
            for key in theirs.files if key.startswith(f'{i}_')
        }
        problems = compare(path, ours[i], ref)
        failures += bool(problems)
        worst = ours[i].get('worst', (0, 0, 1))
        print(f'{osp.basename(path)}: {len(ours[i]["boxes"])} detections '
              f'(SeqNet {len(ref["boxes"])}), max box diff {worst[0]:.2e} px,'
              f' max score diff {worst[1]:.1e}, min cosine {worst[2]:.7f}; '
              f'query cosine {ours[i]["query_cosine"]:.7f}; context '
              f'{len(ours[i]["context_boxes"])} persons '
              f'(SeqNet {len(ref["context_boxes"])})' +
              (''.join(f'\n  DIFFERS: {p}' for p in problems)))
    print(f'{len(images) - failures} of {len(images)} images agree '
          f'(files in {work_dir})')
    found = sum(len(out['boxes']) > 0 for out in ours)
    contexts = sum(len(out['context_boxes']) > 1 for out in ours)
    if found < len(images) // 2 or contexts < len(images) // 2:
        print(f'degenerate: only {found} images with detections and '
              f'{contexts} with context persons; nothing was compared')
        sys.exit(1)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
