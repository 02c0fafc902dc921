#!/usr/bin/env python3
"""What a Python bot would run: PyTorch eager (2 threads on CPU, or CUDA), the same
architectures and random weights as bench/models. Prints JSON timings (median ms) for the
sightread benchmarks. Arguments: image, rounds, and the device (cpu or cuda)."""
import io
import json
import os
import statistics
import sys
import time

import torch
import torchvision
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.dirname(__file__))
from make_models import DistilBert, vit  # noqa: E402

torch.manual_seed(0)
image_path = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
device = torch.device(sys.argv[3] if len(sys.argv) > 3 else 'cpu')
if device.type == 'cpu':
    torch.set_num_threads(2)


def median_ms(fn, n):
    fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        # CUDA runs asynchronously: a time means nothing until the device has finished.
        if device.type == 'cuda':
            torch.cuda.synchronize()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


resnet = torchvision.models.resnet50(weights=None).eval().to(device)
vit_b16 = vit('vit_b_16', 1000).eval().to(device)
bert = DistilBert().eval().to(device)
cnn_pre = transforms.Compose([transforms.Resize(256, interpolation=transforms.InterpolationMode.BICUBIC), transforms.CenterCrop(224), transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
vit_pre = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(), transforms.Normalize([0.5] * 3, [0.5] * 3)])
data = open(image_path, 'rb').read()
x = torch.randn(1, 3, 224, 224, device=device)
x32 = torch.randn(32, 3, 224, 224, device=device)
ids = torch.randint(0, 30522, (1, 32), device=device)


def classify():
    img = Image.open(io.BytesIO(data)).convert('RGB')
    with torch.no_grad():
        resnet(cnn_pre(img).unsqueeze(0).to(device)).softmax(-1).topk(5).values.cpu()
        vit_b16(vit_pre(img).unsqueeze(0).to(device)).softmax(-1).topk(5).values.cpu()


def decode():
    img = Image.open(io.BytesIO(data)).convert('RGB')
    cnn_pre(img)
    vit_pre(img)


with torch.no_grad():
    result = {
        'device': str(device),
        'threads': torch.get_num_threads(),
        'torch': torch.__version__,
        'classifyMs': median_ms(classify, rounds),
        'decodeMs': median_ms(decode, rounds),
        'resnetMs': median_ms(lambda: resnet(x), rounds),
        'vitMs': median_ms(lambda: vit_b16(x), max(3, rounds // 2)),
        'distilbert32Ms': median_ms(lambda: bert(ids, torch.ones_like(ids)), rounds),
    }
    if device.type == 'cuda':
        result['gpu'] = torch.cuda.get_device_name()
        result['resnetBatch32Ms'] = median_ms(lambda: resnet(x32), rounds)
        result['vitBatch32Ms'] = median_ms(lambda: vit_b16(x32), rounds)
print(json.dumps(result))
