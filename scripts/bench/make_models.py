#!/usr/bin/env python3
"""Full-size models with the real architectures and random weights, for benchmarks only.

Writes bench/models/<id>/ (git-ignored): onnx/model.onnx (fp32, opset 17, dynamic batch and
sequence axes), onnx/model_quantized.onnx (int8: MatMul/Gemm weights quantized, activations
quantized at run time with DynamicQuantizeLinear -> MatMulInteger, the pattern onnxruntime's
dynamic quantizer emits), config.json / preprocessor_config.json for the transformers.js
pipelines, and bench/models/manifest.json for sightread. Never needed by tests or CI.

Needs Debian's python3-torch, python3-torchvision, python3-onnx and libopenblas0-openmp.
"""
import json
import math
import os
import sys

import numpy as np
import onnx
import torch
import torchvision
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'bench', 'models')
SHARED = os.path.abspath(os.path.join(ROOT, '..', 'shared'))
torch.manual_seed(0)


class Attention(torch.nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv = torch.nn.Linear(width, 3 * width)
        self.out = torch.nn.Linear(width, width)

    def forward(self, x, bias):
        b, n, w = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(w // self.heads) + bias
        return self.out((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, w))


class Block(torch.nn.Module):
    def __init__(self, width, heads, hidden, pre_norm):
        super().__init__()
        self.pre_norm = pre_norm
        self.attention = Attention(width, heads)
        self.norm1 = torch.nn.LayerNorm(width)
        self.norm2 = torch.nn.LayerNorm(width)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(width, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, width))

    def forward(self, x, bias):
        if self.pre_norm:
            x = x + self.attention(self.norm1(x), bias)
            return x + self.mlp(self.norm2(x))
        x = self.norm1(x + self.attention(x, bias))
        return self.norm2(x + self.mlp(x))


class DistilBert(torch.nn.Module):
    """distilbert-base-uncased + SST-2 head: 6 post-norm layers, width 768, 12 heads."""

    def __init__(self):
        super().__init__()
        self.words = torch.nn.Embedding(30522, 768)
        self.positions = torch.nn.Embedding(512, 768)
        self.norm = torch.nn.LayerNorm(768)
        self.layers = torch.nn.ModuleList([Block(768, 12, 3072, False) for _ in range(6)])
        self.pre_classifier = torch.nn.Linear(768, 768)
        self.classifier = torch.nn.Linear(768, 2)

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.norm(self.words(input_ids) + self.positions(positions))
        bias = (1.0 - attention_mask[:, None, None, :].float()) * -1e4
        for layer in self.layers:
            x = layer(x, bias)
        return self.classifier(torch.relu(self.pre_classifier(x[:, 0])))


class ClipText(torch.nn.Module):
    """CLIP ViT-B/32 text tower: 12 pre-norm causal layers, width 512, 8 heads, 77 positions, 512-d projection."""

    def __init__(self):
        super().__init__()
        self.tokens = torch.nn.Embedding(49408, 512)
        self.positions = torch.nn.Parameter(torch.randn(77, 512) * 0.01)
        self.layers = torch.nn.ModuleList([Block(512, 8, 2048, True) for _ in range(12)])
        self.norm = torch.nn.LayerNorm(512)
        self.projection = torch.nn.Linear(512, 512, bias=False)

    def forward(self, input_ids, attention_mask):
        n = input_ids.shape[1]
        x = self.tokens(input_ids) + self.positions[:n]
        causal = torch.triu(torch.full((n, n), -1e4), diagonal=1)
        for layer in self.layers:
            x = layer(x, causal)
        x = self.norm(x)
        # Like CLIP, read the end-of-text token: the highest id in each row.
        pooled = x[torch.arange(x.shape[0]), input_ids.argmax(-1)]
        return self.projection(pooled) + 0 * attention_mask.sum()


def vit(arch, outputs):
    model = getattr(torchvision.models, arch)(weights=None)
    # torchvision zero-initialises the head, which would make every random model's scores uniform.
    model.heads = torch.nn.Sequential(torch.nn.Linear(768, outputs, bias=outputs != 512))
    torch.nn.init.normal_(model.heads[0].weight, std=0.02)
    return model


def export(model, inputs, names, output, path, dynamic):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # torchvision's attention takes a fused fast path in eval mode that cannot be exported; in
    # train mode it does not, and these models have no dropout or batch norm in their attention
    # blocks, so PRESERVE keeps the graph identical to inference.
    uses_mha = any(isinstance(m, torch.nn.MultiheadAttention) for m in model.modules())
    model.train(uses_mha)
    mode = torch.onnx.TrainingMode.PRESERVE if uses_mha else torch.onnx.TrainingMode.EVAL
    with torch.no_grad():
        torch.onnx.export(model, inputs, path, input_names=names, output_names=[output], dynamic_axes=dynamic, opset_version=17, do_constant_folding=True, training=mode)
    print('wrote', os.path.relpath(path, ROOT), f'{os.path.getsize(path) / 1e6:.0f} MB')


def quantize(source, target):
    """Dynamic int8 quantization of every MatMul/Gemm with a constant 2-D weight."""
    model = onnx.load(source)
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    nodes = []
    quantized = 0
    for node in graph.node:
        weight = weights.get(node.input[1]) if node.op_type in ('MatMul', 'Gemm') and len(node.input) > 1 else None
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if weight is None or len(weight.dims) != 2 or attrs.get('transA', 0) or attrs.get('alpha', 1.0) != 1.0 or attrs.get('beta', 1.0) != 1.0:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(weight).astype(np.float32)
        if attrs.get('transB', 0):
            w = w.T
        scale = float(np.abs(w).max()) / 127.0 or 1.0
        base = f'{node.name or node.output[0]}_q'
        graph.initializer.extend([
            numpy_helper.from_array(np.clip(np.round(w / scale), -127, 127).astype(np.int8), f'{base}_w'),
            numpy_helper.from_array(np.array(0, dtype=np.int8), f'{base}_wzp'),
            numpy_helper.from_array(np.array(scale, dtype=np.float32), f'{base}_ws'),
        ])
        a = node.input[0]
        nodes += [
            helper.make_node('DynamicQuantizeLinear', [a], [f'{base}_a', f'{base}_as', f'{base}_azp']),
            helper.make_node('MatMulInteger', [f'{base}_a', f'{base}_w', f'{base}_azp', f'{base}_wzp'], [f'{base}_i32']),
            helper.make_node('Cast', [f'{base}_i32'], [f'{base}_f'], to=TensorProto.FLOAT),
            helper.make_node('Mul', [f'{base}_as', f'{base}_ws'], [f'{base}_s']),
        ]
        if node.op_type == 'Gemm' and len(node.input) > 2:
            nodes += [helper.make_node('Mul', [f'{base}_f', f'{base}_s'], [f'{base}_y']), helper.make_node('Add', [f'{base}_y', node.input[2]], [node.output[0]])]
        else:
            nodes.append(helper.make_node('Mul', [f'{base}_f', f'{base}_s'], [node.output[0]]))
        quantized += 1
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in graph.node for i in n.input}
    keep = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    onnx.save(model, target)
    print('wrote', os.path.relpath(target, ROOT), f'{os.path.getsize(target) / 1e6:.0f} MB ({quantized} MatMul/Gemm quantized)')


def write_json(path, value):
    with open(path, 'w') as f:
        json.dump(value, f, indent=1)


def link_tokenizer(model_dir, name):
    for file in ('tokenizer.json', 'tokenizer_config.json'):
        source = os.path.join(SHARED, 'tokenizers', name, file)
        target = os.path.join(model_dir, file)
        if not os.path.exists(source):
            sys.exit(f'{source} is missing: the text benchmarks need ../shared/tokenizers')
        if os.path.lexists(target):
            os.remove(target)
        os.symlink(source, target)


def main():
    labels = json.load(open(os.path.join(ROOT, 'models', 'labels', 'imagenet-1k.json')))['labels']
    id2label = {str(i): label for i, label in enumerate(labels)}
    image = torch.randn(1, 3, 224, 224)
    batch = {'pixel_values': {0: 'batch_size'}, 'logits': {0: 'batch_size'}}
    imagenet = {'image_mean': [0.485, 0.456, 0.406], 'image_std': [0.229, 0.224, 0.225]}

    d = os.path.join(OUT, 'resnet-50')
    export(torchvision.models.resnet50(weights=None), (image,), ['pixel_values'], 'logits', f'{d}/onnx/model.onnx', batch)
    quantize(f'{d}/onnx/model.onnx', f'{d}/onnx/model_quantized.onnx')
    write_json(f'{d}/config.json', {'model_type': 'resnet', 'id2label': id2label})
    write_json(f'{d}/preprocessor_config.json', {'image_processor_type': 'ConvNextImageProcessor', 'do_resize': True, 'size': {'shortest_edge': 224}, 'crop_pct': 0.875, 'resample': 3, 'do_rescale': True, 'rescale_factor': 1 / 255, 'do_normalize': True, **imagenet})

    d = os.path.join(OUT, 'vit-base-patch16-224')
    export(vit('vit_b_16', 1000), (image,), ['pixel_values'], 'logits', f'{d}/onnx/model.onnx', batch)
    quantize(f'{d}/onnx/model.onnx', f'{d}/onnx/model_quantized.onnx')
    write_json(f'{d}/config.json', {'model_type': 'vit', 'id2label': id2label})
    write_json(f'{d}/preprocessor_config.json', {'image_processor_type': 'ViTImageProcessor', 'do_resize': True, 'size': {'height': 224, 'width': 224}, 'resample': 2, 'do_rescale': True, 'rescale_factor': 1 / 255, 'do_normalize': True, 'image_mean': [0.5] * 3, 'image_std': [0.5] * 3})

    d = os.path.join(OUT, 'clip-vit-base-patch32')
    export(vit('vit_b_32', 512), (image,), ['pixel_values'], 'image_embeds', f'{d}/onnx/vision_model.onnx', {'pixel_values': {0: 'batch_size'}, 'image_embeds': {0: 'batch_size'}})
    ids = torch.randint(0, 49406, (1, 12))
    text_axes = {'input_ids': {0: 'batch_size', 1: 'sequence_length'}, 'attention_mask': {0: 'batch_size', 1: 'sequence_length'}, 'text_embeds': {0: 'batch_size'}}
    export(ClipText(), (ids, torch.ones_like(ids)), ['input_ids', 'attention_mask'], 'text_embeds', f'{d}/onnx/text_model.onnx', text_axes)
    for part in ('vision_model', 'text_model'):
        quantize(f'{d}/onnx/{part}.onnx', f'{d}/onnx/{part}_quantized.onnx')
    link_tokenizer(d, 'clip-vit-base-patch32')

    d = os.path.join(OUT, 'distilbert-sst2')
    ids = torch.randint(0, 30522, (1, 16))
    axes = {'input_ids': {0: 'batch_size', 1: 'sequence_length'}, 'attention_mask': {0: 'batch_size', 1: 'sequence_length'}, 'logits': {0: 'batch_size'}}
    export(DistilBert(), (ids, torch.ones_like(ids)), ['input_ids', 'attention_mask'], 'logits', f'{d}/onnx/model.onnx', axes)
    quantize(f'{d}/onnx/model.onnx', f'{d}/onnx/model_quantized.onnx')
    write_json(f'{d}/config.json', {'model_type': 'distilbert', 'id2label': {'0': 'NEGATIVE', '1': 'POSITIVE'}})
    link_tokenizer(d, 'bert-base-uncased')

    manifest = json.load(open(os.path.join(ROOT, 'models', 'manifest.json')))
    bench = []
    for entry in manifest['models']:
        if entry['id'] in ('resnet-50', 'vit-base-patch16-224', 'clip-vit-base-patch32', 'distilbert-sst2'):
            entry = dict(entry, source={'type': 'local', 'path': entry['id']}, name=entry['name'] + ' (random weights)')
            entry['files'] = [{k: v for k, v in f.items() if k != 'sha256'} for f in entry['files']]
            bench.append(entry)
    write_json(os.path.join(OUT, 'manifest.json'), {'$schemaVersion': 1, 'models': bench})
    print('wrote bench/models/manifest.json')


if __name__ == '__main__':
    main()
