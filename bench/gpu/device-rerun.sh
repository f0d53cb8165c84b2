#!/bin/bash
# Second pass on the same warm machine (after fixing the optimizer's numpy-2 crash and the probes' IR version):
# collects the training results, then the runs the first pass could not do.
export LD_LIBRARY_PATH=$(find /opt /usr/local -path '*nvidia*' \( -name 'libcublas*.so.*' -o -name 'libcudnn*.so.*' -o -name 'libcudart.so.*' -o -name 'libcurand.so.*' -o -name 'libcufft.so.*' -o -name 'libnvrtc*.so.*' \) 2>/dev/null | xargs -n1 dirname | sort -u | tr '\n' ':') XDG_RUNTIME_DIR=/tmp VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
python3 -c "
import onnx
for f in ['latent-only','all-inputs']:
    m=onnx.load('/tmp/sd/probes/%s.onnx'%f); m.ir_version=9; onnx.save(m,'/tmp/sd/probes/%s.onnx'%f)"
for i in $(seq 1 200); do { [ -f /tmp/train/DONE ] || [ -f /tmp/train/FAILED ]; } && break; sleep 1; done
cp /tmp/train/out/* $OUT/; L=$OUT/gpu-bench2.log; J=$OUT/gpu-bench2.jsonl
{ cat /tmp/train/DONE /tmp/train/FAILED; tail -n 30 /tmp/train3.log; } 2>&1 | tee -a $L
ortb() { local v=$1; shift; (cd /tmp/b$v && timeout ${T:-150} /tmp/node ort-unet-bench.mjs "$@") 2>&1 | tee -a $L | grep '^{' >> $J; }
ortb 129 --model /tmp/sd/sd15-opt/unet/model.onnx --provider cuda --label cuda-optimized --profile /tmp/prof
ortb 129 --model /tmp/sd/probes/latent-only.onnx --provider cuda --label copy-latent-only --runs 200
ortb 129 --model /tmp/sd/probes/all-inputs.onnx --provider cuda --label copy-all-inputs --runs 200
ortb 129 --model /tmp/sd/unet-opt-attn/model.onnx --provider cuda --label cuda-attention-fusion-only
ortb 129 --model /tmp/sd/sd15-fp16/unet/model.onnx --provider cuda --label cuda-plain-again
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > /tmp/gm.txt & smi=$!
(cd /tmp/b129 && RESTART_STUDIO_ROOT=$OLDPWD timeout 120 /tmp/node pipeline-bench.mjs --model /tmp/sd/sd15-opt --provider cuda --width 512 --height 512 --steps 20 --runs 5) 2>&1 | tee -a $L | grep '^{' >> $J
kill $smi; echo "{\"label\": \"engine-sd15-opt-peak-gpu-memory\", \"MiB\": $(sort -n /tmp/gm.txt | tail -1)}" >> $J
T=150 ortb 130 --model /tmp/sd/unet-opt-attn/model.onnx --provider webgpu --label webgpu-attention-fusion --runs 10 --warmup 3 --profile /tmp/prof
date -u >> $L
