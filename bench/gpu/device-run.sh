#!/bin/bash
# Runs on the lent GPU machine, from the repo root, in consecutive device calls (see bench/gpu/README.md):
#   start  (carry .gpucarry/p1)  unpack node/onnxruntime 1.30/diffusers/Vulkan; start the SD 1.5-shaped exports in the
#                                background (setsid: they outlive the call); with TRAIN=1 also the embedded model's
#                                training (issue 7; its results are in)
#   part   (carry .gpucarry/pN)  stash a piece of onnxruntime 1.29's CUDA provider; show progress
#   bench                        assemble the CUDA provider; issue 22's SD 1.5 figures, most wanted first: PyTorch
#                                eager, the optimizer's graph, the engine on its own import (fused CUDA graph) against
#                                diffusers' fp16 pipeline, the imported graphs alone, previews, a LoRA
#                                then starts the SDXL-shaped folder's export (after the timings, not beside them)
#   bench2                       SDXL at 1024x1024 (PyTorch eager, the engine's import against diffusers' pipeline, the
#                                imported graphs alone), WebGPU, then the issue 7 extras
# Each step appends its JSON line to $OUT as it ends, so a call cut short still returns what was done.
# A rehearsal on a CPU (bench/gpu/README.md): SDXL_FLAGS=--tiny makes the SDXL folder and its PyTorch timing tiny,
# SD15_SIZE and SDXL_SIZE (512, 1024) the engine's image sizes.
set -uo pipefail
phase=$1
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
RES=/tmp/res; mkdir -p $RES
S15=${SD15_SIZE:-512} SXL=${SDXL_SIZE:-1024}
export XDG_RUNTIME_DIR=/tmp VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json PYTHONUNBUFFERED=1

progress() {
  for f in /tmp/train.log /tmp/export.log; do [ -f $f ] && { echo "== $f"; tail -n 4 $f; }; done
  ls /tmp/train /tmp/sd 2>/dev/null | tr '\n' ' '; echo
}

cuda_libs() {
  export LD_LIBRARY_PATH=$(find /opt /usr/local -path '*nvidia*' \( -name 'libcublas*.so.*' -o -name 'libcudnn*.so.*' -o -name 'libcudart.so.*' -o -name 'libcurand.so.*' -o -name 'libcufft.so.*' -o -name 'libnvrtc*.so.*' \) 2>/dev/null | xargs -n1 dirname | sort -u | tr '\n' ':')${LD_LIBRARY_PATH:-}
}
wait_for() { for i in $(seq 1 $2); do [ -f $1 ] && return 0; sleep 1; done; echo "waited $2 s for $1" | tee -a $L; return 1; }
ortb() { local v=$1; shift; (cd /tmp/b$v && timeout ${T:-150} /tmp/node ort-unet-bench.mjs "$@") 2>&1 | tee -a $L | grep '^{' >> $J; }
# the engine's own bench (tokenizer, sampler loop, CFG, VAE, PNG); IMPORTS: where it imports a diffusers folder
engine() { local v=$1; shift; (cd /tmp/b$v && RESTART_STUDIO_ROOT=$OLDPWD RESTART_STUDIO_IMPORTS=${IMPORTS:-/tmp/imports} \
  PYTHONPATH=/tmp/pysrc/src timeout ${T:-200} /tmp/node pipeline-bench.mjs "$@") 2>&1 | tee -a $L | grep '^{' >> $J; }
# the same with the card's peak memory beside it
engine_mem() { local label=$1; shift; nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > $RES/gpumem.txt & local smi=$!
  engine 129 "$@"; kill $smi
  echo "{\"label\": \"$label-peak-gpu-memory\", \"MiB\": $(sort -n $RES/gpumem.txt | tail -1), \"idleMiB\": $(head -1 $RES/gpumem.txt)}" | tee -a $L >> $J; }
# the SDXL-shaped diffusers folder, once, in the background; SDXL_DONE marks its end
sdxl_export() { [ -f /tmp/sd/SDXL_STARTED ] && return; mkdir -p /tmp/sd && touch /tmp/sd/SDXL_STARTED
  PYTHONPATH=/tmp/pysrc/src setsid -f bash -c "python3 bench/gpu/sdxl_models.py export /tmp/sd ${SDXL_FLAGS:-}; touch /tmp/sd/SDXL_DONE" \
    > /tmp/export-sdxl.log 2>&1 < /dev/null; }
machine() { echo "{\"label\": \"machine\", \"phase\": \"$phase\", \"date\": \"$(date -u +%FT%TZ)\", \"gpu\": \"$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)\"}" >> $J; }

case $phase in
start)
  set -e
  if [ "${TRAIN:-0}" = 1 ]; then
    CAP_VAE=${CAP_VAE:-1.3} CAP_DECODER=${CAP_DECODER:-0.4} CAP_UNET=${CAP_UNET:-2.6} setsid -f bash training/gpu/run-training.sh /tmp/train > /tmp/train.log 2>&1 < /dev/null
  fi
  P=.gpucarry/p1
  cp $P/unx.py /tmp/unx.py
  mkdir -p /tmp/pysrc && tar xJf $P/diffusers-src.tar.xz -C /tmp/pysrc
  # transformers (and the tokenizers stub) from the carry only when the machine has none: the diffusers folders need it
  python3 -c 'import transformers' 2>/dev/null || tar xJf $P/transformers-src.tar.xz -C /tmp/pysrc/src
  rm -rf /tmp/sd15-configs && cp -r $P/sd15-configs /tmp/sd15-configs
  PYTHONPATH=/tmp/pysrc/src SD15_CONFIGS=/tmp/sd15-configs setsid -f python3 bench/gpu/sd15_models.py export /tmp/sd > /tmp/export.log 2>&1 < /dev/null
  python3 $P/unx.py $P/node.xz /tmp/node && chmod +x /tmp/node
  mkdir -p /tmp/ort130/node_modules && python3 $P/unx.py $P/ort130.tar.xz /tmp/ort130/node_modules
  for v in 129 130; do mkdir -p /tmp/b$v && ln -sfn /tmp/ort$v/node_modules /tmp/b$v/node_modules && cp $P/pipeline-bench.mjs $P/webgpu-step-costs.mjs bench/gpu/ort-unet-bench.mjs /tmp/b$v/; done
  for f in $P/gl/*.deb; do dpkg -x $f /; done; ldconfig
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; /tmp/node --version
  sleep 10; progress ;;
part)
  mkdir -p /tmp/devparts
  for d in .gpucarry/p2 .gpucarry/p3 .gpucarry/p4 .gpucarry/p5; do [ -d $d ] && cp -u $d/* /tmp/devparts/; done
  ls -la /tmp/devparts; progress ;;
bench)
  D=/tmp/devparts
  if [ ! -f /tmp/ort129/.ready ]; then
    mkdir -p /tmp/ort129/node_modules && python3 /tmp/unx.py $D/ort129.tar.xz /tmp/ort129/node_modules
    b=/tmp/ort129/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
    cat $D/prov.0 $D/prov.1 $D/prov.2 $D/prov.3 | xz -dc > $b/libonnxruntime_providers_cuda.so && cp $D/libonnxruntime_providers_shared.so $b/ && touch /tmp/ort129/.ready
  fi
  cuda_libs; L=$OUT/gpu-bench.log J=$OUT/gpu-bench.jsonl; machine
  wait_for /tmp/sd/EXPORT_DONE 300; { cat /tmp/sd/export.json; ls -la /tmp/sd/*/unet/; } 2>&1 | tee -a $L
  # 1. PyTorch eager and the optimizer's fused graph (the 8.5 ms to meet) on this card
  PYTHONPATH=/tmp/pysrc/src SD15_CONFIGS=/tmp/sd15-configs timeout 150 python3 bench/gpu/sd15_models.py torch-bench $RES/torch.json 2>&1 | tail -n 5 | tee -a $L
  python3 -c "import json; print(json.dumps({'label': 'pytorch', **json.load(open('$RES/torch.json'))}))" >> $J
  ortb 129 --model /tmp/sd/sd15-opt/unet/model.onnx --provider cuda --label cuda-optimized
  # 2. the engine imports the diffusers folder (fp16; on a CUDA machine the import also writes unet_cuda/, the fused
  #    NHWC graph, which the CUDA provider runs) and runs it beside diffusers' own fp16 pipeline in one run
  IMPORTS=/tmp/imports-sd15 T=400 engine_mem engine-sd15-import --model /tmp/sd/sd15-diffusers --precision fp16 --provider cuda \
    --width $S15 --height $S15 --steps 20 --runs 5 --compare-torch
  imp=$(ls -d /tmp/imports-sd15/sd-* 2>/dev/null | head -1)
  if [ -n "$imp" ]; then
    # 3. the imported UNet alone, fused (its output against the portable graph's on the same inputs) and portable
    ortb 129 --model $imp/unet_cuda/model.onnx --provider cuda --latent $((S15 / 8)) --label cuda-importer-fused --profile /tmp/prof --compare-to $imp/unet/model.onnx
    ortb 129 --model $imp/unet/model.onnx --provider cuda --latent $((S15 / 8)) --label cuda-importer-portable
    # 4. one image per job (its PNG overlaps nothing); the app's progress events and previews; a rank-32 LoRA on every
    #    attention layer (on the fused graph unless the line's notes say otherwise)
    IMPORTS=/tmp/imports-sd15 engine 129 --model /tmp/sd/sd15-diffusers --precision fp16 --provider cuda --width $S15 --height $S15 --steps 20 --runs 7 --count 1
    IMPORTS=/tmp/imports-sd15 engine 129 --model /tmp/sd/sd15-diffusers --precision fp16 --provider cuda --width $S15 --height $S15 --steps 20 --runs 5 --previews
    IMPORTS=/tmp/imports-sd15 T=300 engine 129 --model /tmp/sd/sd15-diffusers --precision fp16 --provider cuda --width $S15 --height $S15 --steps 20 --runs 5 --lora 32
  fi
  ls -la $imp $imp/unet_cuda 2>&1 | tee -a $L; machine; sdxl_export ;;
bench2)
  cuda_libs; L=$OUT/gpu-bench2.log J=$OUT/gpu-bench2.jsonl; machine
  # 5. SDXL at 1024x1024: PyTorch eager, then the engine's import against diffusers' fp16 pipeline, the graphs alone
  sdxl_export; wait_for /tmp/sd/SDXL_DONE 240; tail -n 5 /tmp/export-sdxl.log | tee -a $L
  PYTHONPATH=/tmp/pysrc/src timeout 150 python3 bench/gpu/sdxl_models.py torch-bench $RES/torch-sdxl.json ${SDXL_FLAGS:-} 2>&1 | tail -n 3 | tee -a $L
  python3 -c "import json; print(json.dumps({'label': 'pytorch-sdxl', **json.load(open('$RES/torch-sdxl.json'))}))" >> $J
  IMPORTS=/tmp/imports-sdxl T=400 engine_mem engine-sdxl-import --model /tmp/sd/sdxl-diffusers --precision fp16 --provider cuda \
    --width $SXL --height $SXL --steps 20 --runs 3 --count 2 --compare-torch
  imp=$(ls -d /tmp/imports-sdxl/sd-* 2>/dev/null | head -1)
  if [ -n "$imp" ]; then
    ortb 129 --model $imp/unet_cuda/model.onnx --provider cuda --latent $((SXL / 8)) --label cuda-sdxl-importer-fused --runs 20 --compare-to $imp/unet/model.onnx
    ortb 129 --model $imp/unet/model.onnx --provider cuda --latent $((SXL / 8)) --label cuda-sdxl-importer-portable --runs 20
  fi
  # 6. WebGPU (onnxruntime-node 1.30): the importer's portable SD 1.5 UNet alone, then the engine on it, alternating:
  #    the latent and the prompt states on the GPU for the whole run (pipeline/device-latents.ts); the latent read back
  #    at every step (--host-latent); the prompt states copied at every call too (--host-inputs)
  sd15=$(ls -d /tmp/imports-sd15/sd-* 2>/dev/null | head -1)
  T=200 ortb 130 --model $sd15/unet/model.onnx --provider webgpu --latent $((S15 / 8)) --label webgpu-importer-portable --runs 10 --warmup 3 --profile /tmp/prof
  for h in "" --host-latent --host-inputs "" --host-latent --host-inputs; do
    T=100 engine 130 --model $sd15 --provider webgpu --width $S15 --height $S15 --steps 4 --runs 3 --count 1 $h
  done
  (cd /tmp/b130 && timeout 60 /tmp/node webgpu-step-costs.mjs 50) 2>&1 | tee -a $L
  # 7. issue 7's extras: the plain export, attention fusion only, the host<->device copies of one call
  ortb 129 --model /tmp/sd/sd15-fp16/unet/model.onnx --provider cuda --label cuda-plain
  ortb 129 --model /tmp/sd/unet-opt-attn/model.onnx --provider cuda --label cuda-attention-fusion-only
  ortb 129 --model /tmp/sd/probes/latent-only.onnx --provider cuda --label copy-latent-only --runs 200
  ortb 129 --model /tmp/sd/probes/all-inputs.onnx --provider cuda --label copy-all-inputs --runs 200
  if [ "${TRAIN:-0}" = 1 ]; then
    wait_for /tmp/train/DONE 60 || true
    cp /tmp/train/out/* "$OUT/" 2>/dev/null; { echo "== training"; cat /tmp/train/DONE /tmp/train/FAILED 2>/dev/null; tail -n 60 /tmp/train.log; } 2>&1 | tee -a $L
  fi
  machine ;;
esac
