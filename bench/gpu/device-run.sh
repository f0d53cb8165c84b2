#!/bin/bash
# Runs on the lent GPU machine, from the repo root, in consecutive device calls (see bench/gpu/README.md):
#   start  (carry .gpucarry/p1)  unpack node/onnxruntime 1.30/diffusers/Vulkan; start the model training and
#                                the SD 1.5-shaped exports in the background (setsid: they outlive the call)
#   part   (carry .gpucarry/pN)  stash a piece of onnxruntime 1.29's CUDA provider; show progress
#   bench                        assemble the CUDA provider, collect the training results into $OUT,
#                                then PyTorch eager, onnxruntime CUDA / WebGPU and the engine's own bench
set -uo pipefail
phase=$1
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
RES=/tmp/res; mkdir -p $RES
export XDG_RUNTIME_DIR=/tmp VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json PYTHONUNBUFFERED=1

progress() {
  for f in /tmp/train.log /tmp/export.log; do [ -f $f ] && { echo "== $f"; tail -n 4 $f; }; done
  ls /tmp/train 2>/dev/null | tr '\n' ' '; echo
}

case $phase in
start)
  set -e
  # the training first: it is the longest, everything below overlaps with it
  CAP_VAE=${CAP_VAE:-1.3} CAP_DECODER=${CAP_DECODER:-0.4} CAP_UNET=${CAP_UNET:-2.6} setsid -f bash training/gpu/run-training.sh /tmp/train > /tmp/train.log 2>&1 < /dev/null
  P=.gpucarry/p1
  cp $P/unx.py /tmp/unx.py
  mkdir -p /tmp/pysrc && tar xJf $P/diffusers-src.tar.xz -C /tmp/pysrc
  # transformers (and the tokenizers stub) from the carry only when the machine has none: sd15_models.py's diffusers folder
  python3 -c 'import transformers' 2>/dev/null || tar xJf $P/transformers-src.tar.xz -C /tmp/pysrc/src
  rm -rf /tmp/sd15-configs && cp -r $P/sd15-configs /tmp/sd15-configs
  PYTHONPATH=/tmp/pysrc/src SD15_CONFIGS=/tmp/sd15-configs setsid -f python3 bench/gpu/sd15_models.py export /tmp/sd > /tmp/export.log 2>&1 < /dev/null
  python3 $P/unx.py $P/node.xz /tmp/node && chmod +x /tmp/node
  mkdir -p /tmp/ort130/node_modules && python3 $P/unx.py $P/ort130.tar.xz /tmp/ort130/node_modules
  for v in 129 130; do mkdir -p /tmp/b$v && ln -sfn /tmp/ort$v/node_modules /tmp/b$v/node_modules && cp $P/pipeline-bench.mjs bench/gpu/ort-unet-bench.mjs /tmp/b$v/; done
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
  export LD_LIBRARY_PATH=$(find /opt /usr/local -path '*nvidia*' \( -name 'libcublas*.so.*' -o -name 'libcudnn*.so.*' -o -name 'libcudart.so.*' -o -name 'libcurand.so.*' -o -name 'libcufft.so.*' -o -name 'libnvrtc*.so.*' \) 2>/dev/null | xargs -n1 dirname | sort -u | tr '\n' ':')${LD_LIBRARY_PATH:-}
  L=$OUT/gpu-bench.log J=$OUT/gpu-bench.jsonl
  # 1. exports (overlapping the training), then the training results, so they come back whatever happens next
  for i in $(seq 1 400); do [ -f /tmp/sd/EXPORT_DONE ] && break; sleep 1; done
  { cat /tmp/sd/export.json; ls -la /tmp/sd/*/unet/ /tmp/sd/unet-opt-attn; } 2>&1 | tee -a $L
  for i in $(seq 1 ${TRAIN_WAIT_S:-420}); do { [ -f /tmp/train/DONE ] || [ -f /tmp/train/FAILED ]; } && break; sleep 1; done
  cp /tmp/train/out/* "$OUT/" 2>/dev/null; { echo "== training"; cat /tmp/train/DONE /tmp/train/FAILED 2>/dev/null; tail -n 60 /tmp/train.log; } 2>&1 | tee -a $L
  # 2. the same UNet on the same card: PyTorch eager, then onnxruntime
  PYTHONPATH=/tmp/pysrc/src SD15_CONFIGS=/tmp/sd15-configs timeout 150 python3 bench/gpu/sd15_models.py torch-bench $RES/torch.json 2>&1 | tail -n 5 | tee -a $L
  python3 -c "import json; print(json.dumps({'label': 'pytorch', **json.load(open('$RES/torch.json'))}))" >> $J
  ortb() { local v=$1; shift; (cd /tmp/b$v && timeout ${T:-150} /tmp/node ort-unet-bench.mjs "$@") 2>&1 | tee -a $L | grep '^{' >> $J; }
  ortb 129 --model /tmp/sd/sd15-fp16/unet/model.onnx --provider cuda --label cuda-plain
  ortb 129 --model /tmp/sd/sd15-opt/unet/model.onnx --provider cuda --label cuda-optimized --profile /tmp/prof
  ortb 129 --model /tmp/sd/probes/latent-only.onnx --provider cuda --label copy-latent-only --runs 200
  ortb 129 --model /tmp/sd/probes/all-inputs.onnx --provider cuda --label copy-all-inputs --runs 200
  # 3. the engine itself (tokenizer, sampler loop, CFG, VAE, PNG) on the optimized folder, with peak GPU memory
  engine() { local m=$1; nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > $RES/gpumem.txt & local smi=$!
    (cd /tmp/b129 && RESTART_STUDIO_ROOT=$OLDPWD timeout 150 /tmp/node pipeline-bench.mjs --model /tmp/sd/$m --provider cuda --width 512 --height 512 --steps 20 --runs 5) 2>&1 | tee -a $L | grep '^{' >> $J
    kill $smi; echo "{\"label\": \"engine-$m-peak-gpu-memory\", \"MiB\": $(sort -n $RES/gpumem.txt | tail -1), \"idleMiB\": $(head -1 $RES/gpumem.txt)}" | tee -a $L >> $J; }
  engine sd15-opt
  # the same with the app's progress events and previews (issue 22: what they add per step on a GPU)
  (cd /tmp/b129 && RESTART_STUDIO_ROOT=$OLDPWD timeout 150 /tmp/node pipeline-bench.mjs --model /tmp/sd/sd15-opt --provider cuda --width 512 --height 512 --steps 20 --runs 5 --previews) 2>&1 | tee -a $L | grep '^{' >> $J
  # 4. WebGPU (onnxruntime-node 1.30), the attention-only fusion, the engine on the plain export
  T=200 ortb 130 --model /tmp/sd/sd15-fp16/unet/model.onnx --provider webgpu --label webgpu-plain --runs 10 --warmup 3 --profile /tmp/prof
  ortb 129 --model /tmp/sd/unet-opt-attn/model.onnx --provider cuda --label cuda-attention-fusion-only
  engine sd15-fp16
  T=200 ortb 130 --model /tmp/sd/unet-opt-attn/model.onnx --provider webgpu --label webgpu-attention-fusion --runs 10 --warmup 3
  #    the engine on WebGPU: prompt states uploaded once per run (model/device-inputs.ts) against copied at every
  #    call (--host-inputs), alternating; few steps, as a WebGPU step of the plain export takes about 0.3 s
  for h in "" --host-inputs "" --host-inputs; do
    (cd /tmp/b130 && RESTART_STUDIO_ROOT=$OLDPWD timeout 120 /tmp/node pipeline-bench.mjs --model /tmp/sd/sd15-fp16 --provider webgpu \
      --width 512 --height 512 --steps 4 --runs 3 --count 1 $h) 2>&1 | tee -a $L | grep '^{' >> $J
  done
  # 5. the importer's own graphs (issue 22): the engine imports the diffusers folder (fp16; on this CUDA machine the
  #    import also writes unet_cuda/, the fused NHWC graph) and runs it beside diffusers' own fp16 pipeline in one run;
  #    then the imported UNet alone, fused and portable, to set beside cuda-optimized above
  if [ -f /tmp/sd/sd15-diffusers/model_index.json ]; then
    (cd /tmp/b129 && RESTART_STUDIO_ROOT=$OLDPWD RESTART_STUDIO_IMPORTS=/tmp/imports PYTHONPATH=/tmp/pysrc/src timeout 400 /tmp/node pipeline-bench.mjs \
      --model /tmp/sd/sd15-diffusers --precision fp16 --provider cuda --width 512 --height 512 --steps 20 --runs 5 --compare-torch) 2>&1 | tee -a $L | grep '^{' >> $J
    imp=$(ls -d /tmp/imports/sd-* 2>/dev/null | head -1)
    [ -n "$imp" ] && ortb 129 --model $imp/unet_cuda/model.onnx --provider cuda --label cuda-importer-fused --profile /tmp/prof \
      --compare-to $imp/unet/model.onnx
    [ -n "$imp" ] && ortb 129 --model $imp/unet/model.onnx --provider cuda --label cuda-importer-portable
  fi
  echo "{\"label\": \"machine\", \"date\": \"$(date -u +%FT%TZ)\", \"gpu\": \"$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)\"}" >> $J
  ;;
esac
