#!/bin/bash
# Packs what the GPU benchmark and the GPU training run need on the lent GPU machine into .gpucarry/p1..p5,
# each small enough to travel with the working tree (the device tool moves at most 64 MiB per call).
# Needs ../shared/gpu/prepare-device-carry.sh --cuda to have run (.devcarry/) and the diffusers source
# (brought with the search tool's fetch; never committed) at $DIFFUSERS_SRC_TAR, and transformers with the tokenizers
# stub as ../shared/tools/diffusers-env sets them up ($TRANSFORMERS_SRC_TAR, default: packed from /tmp/pylib/site), used
# there only when the machine's Python has no transformers (sd15_models.py's diffusers folder needs it).
#   p1: node, onnxruntime-node 1.30 (WebGPU), diffusers source, SD 1.5 configs, the engine's bench bundles, Vulkan loader debs
#   p2: onnxruntime-node 1.29 + the first piece of its CUDA provider;  p3..p5: the rest of the provider
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.gpucarry; dc=.devcarry/c1
grep -qx '/.gpucarry/' .git/info/exclude || echo '/.gpucarry/' >> .git/info/exclude
rm -rf "$out"/p?; mkdir -p "$out"/p1/gl "$out"/p2 "$out"/p3 "$out"/p4 "$out"/p5
cp "$dc/node.xz" "$dc/ort130.tar.xz" "$dc/unx.py" "$out/p1/"
cp "${DIFFUSERS_SRC_TAR:-$out/diffusers-src.tar.xz}" "$out/p1/diffusers-src.tar.xz"
if [ -n "${TRANSFORMERS_SRC_TAR:-}" ]; then cp "$TRANSFORMERS_SRC_TAR" "$out/p1/transformers-src.tar.xz"
else tar -C /tmp/pylib/site --exclude=__pycache__ -cJf "$out/p1/transformers-src.tar.xz" transformers tokenizers; fi
cp -r ../shared/reference/sd15-configs "$out/p1/sd15-configs" && chmod -R u+w "$out/p1/sd15-configs"
cp ${GL_DEBS:-/tmp/gl}/*.deb "$out/p1/gl/"
for entry in src-core/bench/pipeline-bench.ts reports/gpu-bench/webgpu-step-costs.ts; do
  npx esbuild "$entry" --bundle --platform=node --format=esm --target=node20 --external:onnxruntime-node \
    --outfile="$out/p1/$(basename "$entry" .ts).mjs" --log-level=warning \
    --banner:js="import{createRequire as __cr}from'module';const require=__cr(import.meta.url);"
done
cp "$dc/ort129.tar.xz" "$dc/libonnxruntime_providers_shared.so" "$out/p2/"
cat .devcarry/c2/p00 .devcarry/c3/p01 .devcarry/c4/p02 > "$out/prov.xz"
dd if="$out/prov.xz" of="$out/p2/prov.0" bs=1M count=30 status=none
for i in 1 2 3; do
  dd if="$out/prov.xz" of="$out/p$((i + 2))/prov.$i" bs=1M skip=$((30 + (i - 1) * 43)) count=43 status=none
done
rm "$out/prov.xz"
du -sh "$out"/p?
