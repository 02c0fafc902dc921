#!/usr/bin/env bash
# Makes docs/lab/*.png: one reply image per lab experiment, by the CLI, offline, on the real
# MobileNetV2 (int8) and photos from ../shared. Usage: scripts/lab-pngs.sh [shared dir] [out dir]
# The ViT, DistilBERT SST-2 and BERT's fill-mask head are not in ../shared (they download from
# Hugging Face): the image experiments run the CNN only, the text ones VADER beside an
# unavailable transformer, and /mask-text, which needs BERT's fill-mask head, makes no image.
# Then, when a python3 has torch, torchvision, onnx and PIL ($PYTHON, else python3 on the PATH,
# else /usr/bin/python3, where Debian's python3-torch etc. install them), it trains a small ViT
# and a small CNN on synthetic shapes (scripts/lab/train_toy_models.py: 3-13 minutes on 2 cores,
# by what else runs), draws saliency-trained-toy.png with them and prints the measured table
# (scripts/lab/toy-saliency-table.ts); LAB_TOY_MODELS=0 skips that step.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=$(realpath "${1:-../shared}")
out=$(realpath -m "${2:-docs/lab}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out" "$work/models/mobilenetv2-int8" "$work/manifest/labels"
cp "$shared/models/mobilenetv2-12-int8.onnx" "$work/models/mobilenetv2-int8/"
cp models/labels/imagenet-1k.json "$work/manifest/labels/"
# The repository's MobileNetV2 entry, plus the three tokenizers from ../shared as local folders.
node -e '
const [manifestPath, shared, target] = process.argv.slice(1);
const manifest = JSON.parse(require("node:fs").readFileSync(manifestPath, "utf8"));
const tokenizer = (id) => ({ id, name: id, task: "tokenizer", architecture: "tokenizer",
  source: { type: "local", path: `${shared}/tokenizers/${id}` },
  files: [{ path: "tokenizer.json" }, { path: "tokenizer_config.json" }] });
manifest.models = [manifest.models.find((m) => m.id === "mobilenetv2-int8"),
  ...["bert-base-uncased", "gpt2", "clip-vit-base-patch32"].map(tokenizer)];
require("node:fs").writeFileSync(target, JSON.stringify(manifest));
' models/manifest.json "$shared" "$work/manifest/manifest.json"
export MODELS_MANIFEST="$work/manifest/manifest.json" MODELS_DIR="$work/models" MODEL_DOWNLOADS=false \
  EXECUTION_PROVIDER=cpu VISION_CNN_MODEL=mobilenetv2-int8 CLIP_MODEL=clip-vit-base-patch32 LOG_LEVEL=warn
cli() { npx tsx src/cli/main.ts "$@" --out "$work/out"; }
cli saliency "$shared/images/dog.jpg" --model cnn
cli stress "$shared/images/chelsea.png" --model cnn --seed 1
cli mask "$shared/images/coffee.png" --model cnn --ratios 0,0.25,0.5,0.75,0.9 --seed 1
cli saliency-text "The movie was not bad at all"
cli stress-text "The movie was great" --seed 1
cli mask-text "The cat sat on the mat because it was tired" --seed 1 || echo "mask-text: no image (no fill-mask model offline)" >&2
cli languages
cp "$work"/out/*.png "$out"/

# Attention rollout and a class activation map on models with trained weights: the ViT above is
# not offline, so a toy ViT and CNN are trained here. Models, images and manifest stay in $work.
python=""
for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
  if "$candidate" -c 'import torch, torchvision, onnx, PIL, numpy' 2>/dev/null; then
    python=$candidate
    break
  fi
done
if [ "${LAB_TOY_MODELS:-1}" = 0 ]; then
  echo "saliency-trained-toy.png: skipped (LAB_TOY_MODELS=0)" >&2
elif [ -z "$python" ]; then
  echo "saliency-trained-toy.png: skipped (no python3 here has torch, torchvision, onnx, PIL and numpy;" \
    "tried ${PYTHON:+$PYTHON }python3 /usr/bin/python3; Debian: python3-torch python3-torchvision python3-onnx python3-pil)" >&2
else
  "$python" scripts/lab/train_toy_models.py "$work/toy"
  MODELS_MANIFEST="$work/toy/manifest.json" MODELS_DIR="$work/toy/store" VISION_CNN_MODEL=toy-cnn VISION_VIT_MODEL=toy-vit \
    npx tsx src/cli/main.ts saliency "$work/toy/test-red-disc-top-left.png" --model both --out "$work/toy-out"
  cp "$work/toy-out/saliency.png" "$out/saliency-trained-toy.png"
  npx tsx scripts/lab/toy-saliency-table.ts "$work/toy"
fi
ls -l "$out"
