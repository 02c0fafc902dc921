#!/usr/bin/env python3
"""A small ViT and a small CNN trained here, on CPU, on synthetic shapes, for the lab's saliency maps.

The pretrained ViT (google/vit-base-patch16-224) cannot be downloaded offline, so the attention
rollout had only been seen on hand-built and random-weight models. This script makes models whose
weights were actually trained, on a task where the evidence sits in a known box:

  224x224 RGB images, one object of four classes -- a red disc, a blue square, a green triangle,
  a yellow cross -- 36 to 72 px across at a random place, on a textured background (low-frequency
  colour noise + pixel noise) with 6-14 distractor strokes (straight lines and arcs, 2-5 px wide,
  half of them in the classes' own colours, so a colour alone says nothing about the class or the
  place: only a filled blob of the right shape does).

Models (both end in a linear classifier over 4 classes, mean/std 0.5 for every channel):
  toy-vit: torchvision.models.VisionTransformer, image 224, patch 16, 4 layers, 4 heads, width 64,
           MLP 128 -- a 14x14 patch grid plus the class token, 197 tokens. 2 epochs, AdamW lr 2e-3.
  toy-cnn: a 4x4 stride-4 stem and three 3x3 convolutions (BN + ReLU), 224 -> 14x14x128, global
           average pool -> Linear, so the class activation map applies (14x14, the same grid as
           the ViT's patches). 3 epochs, AdamW lr 2e-3.
Both on the same 3,500 training images, batch 32, cosine schedule; seeded, and deterministic on
one machine. On 2 free cores training takes about 3 minutes (ViT ~100 s, CNN ~60 s).

Writes into OUT (argument; never into the repository):
  toy-vit/model.onnx, toy-cnn/model.onnx  opset 17, input pixel_values [N,3,224,224] (dynamic N), output logits
  toy-vit-shuffled/model.onnx, toy-cnn-shuffled/model.onnx
                           the same graphs with every float initializer of >= 64 values permuted
                           (Adebayo et al. 2018's randomisation check; like shuffledWeights in
                           src/inference/graph-edit.ts)
  labels.json              the four class names, in output order
  manifest.json            a sightread manifest for the four models (local sources)
  heldout/NNN.png + heldout/boxes.json   held-out images and their objects' boxes, for the measurement
  test-*.png               test images: one object in a known corner
  report.json              accuracies, training times, settings

Usage: /usr/bin/python3 scripts/lab/train_toy_models.py OUT [--quick] [--vit-epochs N ...] (see --help)
Needs Debian's python3-torch, python3-torchvision, python3-onnx, python3-pil, python3-numpy. No downloads.
"""
import argparse
import json
import math
import os
import time
import types

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper
from PIL import Image, ImageDraw

SIZE = 224
CLASSES = ['red disc', 'blue square', 'green triangle', 'yellow cross']
COLOURS = [(220, 40, 40), (40, 70, 220), (40, 180, 60), (235, 210, 40)]
MEAN = [0.5, 0.5, 0.5]
STD = [0.5, 0.5, 0.5]


def jitter(rng, colour, amount=25):
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in colour)


def background(rng):
    """Textured clutter: a muted base colour, low-frequency colour blotches and pixel noise."""
    base = rng.integers(70, 170, size=3)
    blotches = rng.normal(0, 35, size=(7, 7, 3)).astype(np.float32)
    low = np.asarray(Image.fromarray(np.uint8(np.clip(blotches + 128, 0, 255))).resize((SIZE, SIZE), Image.BICUBIC), np.float32) - 128
    noise = rng.normal(0, 14, size=(SIZE, SIZE, 3))
    return np.uint8(np.clip(base + low + noise, 0, 255))


def distractors(rng, draw):
    """Lines and arcs, never filled: strokes of the classes' colours carry no class or place."""
    for _ in range(rng.integers(6, 15)):
        colour = jitter(rng, COLOURS[rng.integers(4)]) if rng.random() < 0.5 else tuple(int(v) for v in rng.integers(0, 256, 3))
        width = int(rng.integers(2, 6))
        if rng.random() < 0.5:
            x0, y0, x1, y1 = (int(v) for v in rng.integers(-20, SIZE + 20, 4))
            draw.line((x0, y0, x1, y1), fill=colour, width=width)
        else:
            cx, cy = rng.integers(0, SIZE, 2)
            r = int(rng.integers(15, 70))
            start = int(rng.integers(0, 360))
            draw.arc((int(cx) - r, int(cy) - r, int(cx) + r, int(cy) + r), start, start + int(rng.integers(60, 200)), fill=colour, width=width)


def draw_object(draw, cls, colour, x, y, s, angle):
    """The class's shape filling the s x s box at (x, y); its tight box is returned."""
    cx, cy, r = x + s / 2, y + s / 2, s / 2
    if cls == 0:
        draw.ellipse((x, y, x + s, y + s), fill=colour)
    elif cls == 1:
        draw.rectangle((x, y, x + s, y + s), fill=colour)
    elif cls == 2:
        points = [(cx + r * math.cos(angle + k * 2 * math.pi / 3), cy + r * math.sin(angle + k * 2 * math.pi / 3)) for k in range(3)]
        draw.polygon(points, fill=colour)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        return [min(xs), min(ys), max(xs), max(ys)]
    else:
        t = s / 3
        draw.rectangle((x, y + t, x + s, y + 2 * t), fill=colour)
        draw.rectangle((x + t, y, x + 2 * t, y + s), fill=colour)
    return [x, y, x + s, y + s]


def sample(rng, cls=None, corner=None):
    """One image, its class and the object's box [x0, y0, x1, y1] in pixels."""
    cls = int(rng.integers(4)) if cls is None else cls
    img = Image.fromarray(background(rng))
    draw = ImageDraw.Draw(img)
    distractors(rng, draw)
    s = int(rng.integers(36, 73))
    if corner is None:
        x, y = (int(v) for v in rng.integers(4, SIZE - s - 4, 2))
    else:
        # corner: 'top-left', 'bottom-right', ... with a margin of 12 px.
        x = 12 if corner.endswith('left') else SIZE - s - 12
        y = 12 if corner.startswith('top') else SIZE - s - 12
    box = draw_object(draw, cls, jitter(rng, COLOURS[cls]), x, y, s, float(rng.uniform(0, 2 * math.pi)))
    return np.asarray(img), cls, [round(float(v), 1) for v in box]


def dataset(seed, count):
    rng = np.random.default_rng(seed)
    images, labels, boxes = [], [], []
    for _ in range(count):
        image, cls, box = sample(rng)
        images.append(image)
        labels.append(cls)
        boxes.append(box)
    return np.stack(images), np.array(labels), boxes


def to_tensor(images):
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    return (x - 0.5) / 0.5


def fast_attention(self, query, key, value, need_weights=False, **_):
    """nn.MultiheadAttention's self-attention, the same arithmetic on contiguous [N, heads, T, d] tensors.

    Used for training only: Debian's torch 1.13 runs the [N*heads, T, T] x [N*heads, T, d] bmm of
    the stock module on strided inputs at well under 1 GFLOP/s on this CPU (80% of a training step);
    this version gives the same outputs (max difference 0 in float32 on a check batch) several
    times faster. The export uses the stock module, so the graph is torchvision's.
    """
    b, t, d = query.shape
    h = self.num_heads
    qkv = torch.nn.functional.linear(query, self.in_proj_weight, self.in_proj_bias)
    qkv = qkv.view(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4).contiguous()
    q, k, v = qkv[0] / math.sqrt(d // h), qkv[1], qkv[2]
    attention = torch.matmul(q, k.transpose(-1, -2).contiguous()).softmax(-1)
    return self.out_proj(torch.matmul(attention, v).transpose(1, 2).reshape(b, t, d)), None


def use_fast_attention(model, on):
    for module in model.modules():
        if isinstance(module, torch.nn.MultiheadAttention):
            if on:
                module.forward = types.MethodType(fast_attention, module)
            elif 'forward' in module.__dict__:
                del module.forward


def make_vit():
    return torchvision.models.VisionTransformer(image_size=SIZE, patch_size=16, num_layers=4, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=len(CLASSES))


def make_cnn():
    # A 4x4 stride-4 stem (cheap on 2 cores), then 3x3 convolutions down to 14x14.
    layers, channels = [], 3
    for out, kernel, stride in ((32, 4, 4), (64, 3, 2), (96, 3, 2), (128, 3, 1)):
        layers += [torch.nn.Conv2d(channels, out, kernel, stride, (kernel - 1) // 2 if stride < 4 else 0, bias=False), torch.nn.BatchNorm2d(out), torch.nn.ReLU(inplace=True)]
        channels = out
    return torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(channels, len(CLASSES)))


def train(name, model, images, labels, epochs, batch, lr, seed):
    torch.manual_seed(seed)
    steps = epochs * math.ceil(len(images) / batch)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
    model.train()
    started = time.time()
    step = 0
    for epoch in range(epochs):
        order = torch.randperm(len(images))
        seen, correct, total_loss = 0, 0, 0.0
        for at in range(0, len(images), batch):
            index = order[at:at + batch].numpy()
            x, y = to_tensor(images[index]), torch.from_numpy(labels[index])
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            seen += len(index)
            correct += int((logits.argmax(1) == y).sum())
            total_loss += float(loss) * len(index)
        print(f'{name} epoch {epoch + 1}/{epochs}: loss {total_loss / seen:.3f}, train accuracy {correct / seen:.3f}, {time.time() - started:.0f} s', flush=True)
    return time.time() - started


def accuracy(model, images, labels):
    model.eval()
    correct = 0
    with torch.no_grad():
        for at in range(0, len(images), 100):
            correct += int((model(to_tensor(images[at:at + 100])).argmax(1) == torch.from_numpy(labels[at:at + 100])).sum())
    return correct / len(images)


def export(model, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # As scripts/bench/make_models.py: torchvision's attention takes a fused fast path in eval
    # mode that cannot be exported; in train mode it does not, and with dropout 0 and no batch
    # norm in the ViT, PRESERVE keeps the graph identical to inference. Its attention then appears
    # as Softmax nodes of shape [N*heads, T, T] feeding a MatMul with the values.
    uses_mha = any(isinstance(m, torch.nn.MultiheadAttention) for m in model.modules())
    model.train(uses_mha)
    mode = torch.onnx.TrainingMode.PRESERVE if uses_mha else torch.onnx.TrainingMode.EVAL
    with torch.no_grad():
        torch.onnx.export(model, (torch.zeros(1, 3, SIZE, SIZE),), path, input_names=['pixel_values'], output_names=['logits'],
                          dynamic_axes={'pixel_values': {0: 'batch_size'}, 'logits': {0: 'batch_size'}}, opset_version=17, do_constant_folding=True, training=mode)
    model.eval()
    onnx.checker.check_model(onnx.load(path))
    softmaxes = sum(node.op_type == 'Softmax' for node in onnx.load(path).graph.node)
    print(f'wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB, {softmaxes} Softmax nodes)')


def shuffled(source, target, seed, min_elements=64):
    """Adebayo et al.'s randomisation: each float initializer's values permuted, distributions kept."""
    model = onnx.load(source)
    rng = np.random.default_rng(seed)
    for i, init in enumerate(model.graph.initializer):
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(init)
        if values.size < min_elements:
            continue
        permuted = rng.permutation(values.reshape(-1)).reshape(values.shape).astype(np.float32)
        model.graph.initializer[i].CopyFrom(numpy_helper.from_array(permuted, init.name))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    onnx.save(model, target)
    print(f'wrote {target}')


def entry(model_id, name, architecture, extra):
    return {
        'id': model_id, 'name': name, 'task': 'image-classification', 'architecture': architecture,
        'source': {'type': 'local', 'path': model_id}, 'files': [{'path': 'model.onnx', 'precision': 'fp32'}],
        'preprocess': {'resize': 'squash', 'size': {'width': SIZE, 'height': SIZE}, 'interpolation': 'bilinear', 'mean': MEAN, 'std': STD},
        'labels': {'file': 'labels.json'}, 'inputs': {'pixels': 'pixel_values'}, 'outputs': {'logits': 'logits'}, **extra,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', help='folder for the models, images and manifest (outside the repository or git-ignored)')
    parser.add_argument('--quick', action='store_true', help='a few hundred images, one epoch: checks the plumbing only')
    parser.add_argument('--train-images', type=int, default=3500)
    parser.add_argument('--vit-epochs', type=int, default=2)
    parser.add_argument('--cnn-epochs', type=int, default=3)
    parser.add_argument('--vit-lr', type=float, default=2e-3)
    parser.add_argument('--heldout', type=int, default=200, help='held-out images (accuracy, and PNGs with boxes for the measurement)')
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    started = time.time()
    train_count = 400 if args.quick else args.train_images
    images, labels, _ = dataset(1, train_count)
    test_images, test_labels, test_boxes = dataset(2, args.heldout)
    print(f'generated {train_count} training and {args.heldout} held-out images in {time.time() - started:.0f} s', flush=True)

    vit, cnn = make_vit(), make_cnn()
    vit_epochs, cnn_epochs = (1, 1) if args.quick else (args.vit_epochs, args.cnn_epochs)
    use_fast_attention(vit, True)
    vit_seconds = train('toy-vit', vit, images, labels, vit_epochs, 32, args.vit_lr, 0)
    cnn_seconds = train('toy-cnn', cnn, images, labels, cnn_epochs, 32, 2e-3, 0)
    vit_accuracy, cnn_accuracy = accuracy(vit, test_images, test_labels), accuracy(cnn, test_images, test_labels)
    use_fast_attention(vit, False)
    # The held-out accuracy again with the stock attention, in the mode the export traces.
    vit.train()
    with torch.no_grad():
        stock = float((vit(to_tensor(test_images[:100])).argmax(1) == torch.from_numpy(test_labels[:100])).float().mean())
    print(f'toy-vit with the stock attention, first {min(100, len(test_images))} held-out images: {stock:.3f}')
    print(f'held-out accuracy ({args.heldout} images): toy-vit {vit_accuracy:.3f}, toy-cnn {cnn_accuracy:.3f}')
    print(f'training time: toy-vit {vit_seconds:.0f} s, toy-cnn {cnn_seconds:.0f} s, total {vit_seconds + cnn_seconds:.0f} s')

    export(vit, f'{out}/toy-vit/model.onnx')
    export(cnn, f'{out}/toy-cnn/model.onnx')
    shuffled(f'{out}/toy-vit/model.onnx', f'{out}/toy-vit-shuffled/model.onnx', 1)
    shuffled(f'{out}/toy-cnn/model.onnx', f'{out}/toy-cnn-shuffled/model.onnx', 1)

    with open(f'{out}/labels.json', 'w') as f:
        json.dump(CLASSES, f)
    vit_extra = {'patchSize': 16}
    manifest = {'$schemaVersion': 1, 'models': [
        entry('toy-vit', 'toy ViT (4 layers, width 64, trained here on synthetic shapes)', 'vit', vit_extra),
        entry('toy-cnn', 'toy CNN (4 conv layers, trained here on synthetic shapes)', 'cnn', {}),
        entry('toy-vit-shuffled', 'toy ViT, weights shuffled', 'vit', vit_extra),
        entry('toy-cnn-shuffled', 'toy CNN, weights shuffled', 'cnn', {}),
    ]}
    with open(f'{out}/manifest.json', 'w') as f:
        json.dump(manifest, f, indent=1)

    os.makedirs(f'{out}/heldout', exist_ok=True)
    records = []
    for i, (image, cls, box) in enumerate(zip(test_images, test_labels, test_boxes)):
        Image.fromarray(image).save(f'{out}/heldout/{i:03d}.png')
        records.append({'file': f'{i:03d}.png', 'label': CLASSES[cls], 'box': box})
    with open(f'{out}/heldout/boxes.json', 'w') as f:
        json.dump(records, f, indent=1)
    rng = np.random.default_rng(3)
    tests = []
    for cls, corner in ((0, 'top-left'), (3, 'bottom-right'), (2, 'top-right'), (1, 'bottom-left')):
        image, _, box = sample(rng, cls, corner)
        name = f'test-{CLASSES[cls].replace(" ", "-")}-{corner}.png'
        Image.fromarray(image).save(f'{out}/{name}')
        tests.append({'file': name, 'label': CLASSES[cls], 'box': box})
    report = {'train_images': train_count, 'heldout_images': args.heldout, 'epochs': {'toy-vit': vit_epochs, 'toy-cnn': cnn_epochs}, 'vit_lr': args.vit_lr,
              'heldout_accuracy': {'toy-vit': vit_accuracy, 'toy-cnn': cnn_accuracy},
              'training_seconds': {'toy-vit': round(vit_seconds), 'toy-cnn': round(cnn_seconds)},
              'torch': torch.__version__, 'torchvision': torchvision.__version__, 'tests': tests}
    with open(f'{out}/report.json', 'w') as f:
        json.dump(report, f, indent=1)
    print(f'wrote {out}/manifest.json, labels.json, report.json, heldout/ ({args.heldout} PNGs + boxes.json), {len(tests)} test PNGs; {time.time() - started:.0f} s in all')


if __name__ == '__main__':
    main()
