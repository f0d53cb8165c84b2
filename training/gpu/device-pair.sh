#!/usr/bin/env bash
# One device call, two trainings sharing the GPU (at these model sizes each run leaves the GPU mostly idle):
#   b: a fresh model whose VAE downsamples 4x (block_out_channels [32, 64, 96]: 16x16 latents for 64x64 images),
#      trained by run-training.sh with bf16 autocast (dropped automatically if a stage fails with it);
#   a: the committed weights' UNet continued from their EMA (stage unet_more), same VAE and data.
# Run from the repository root on the device, with the committed weights' checkpoints (vae.pt, vae_decoder_ft.pt,
# unet.pt, latents.pt with their scaling_factor, remap.json) and evaluator.pt in $SEED_DIR (default training/.work-carry):
#   OUT=/somewhere bash training/gpu/device-pair.sh
# Everything that comes back (results packages, logs, nvidia-smi samples) is copied to $OUT/{a,b} before
# DEADLINE seconds (default 560) from the start, finished or not. Caps in minutes: CAP_VAE, CAP_DECODER, CAP_UNET
# (run b), CAP_MORE (run a). EXTRA_ARGS (train.py flags for both runs) and DEVICE=cpu make the small CPU test:
#   OUT=/tmp/pair-out SEED_DIR=training/.work-carry DEVICE=cpu PYTHON=/usr/bin/python3 CAP_VAE=0.2 CAP_DECODER=0.1 \
#   CAP_UNET=0.2 CAP_MORE=0.2 EXTRA_ARGS="--n-train 1000 --vae-batch 16 --decoder-batch 16 --unet-batch 16" bash training/gpu/device-pair.sh
set -u
OUT=${OUT:?set OUT}
R=${RUN_DIR:-/tmp/restart-pair}
SEED=$(cd "${SEED_DIR:-training/.work-carry}" && pwd)
DEADLINE=${DEADLINE:-560}
PY=${PYTHON:-python3}
T0=$(date +%s)
elapsed() { echo $(( $(date +%s) - T0 )); }
mkdir -p "$R/a/work" "$R/a/out" "$OUT"

CAP_VAE=${CAP_VAE:-2.0} CAP_DECODER=${CAP_DECODER:-0.5} CAP_UNET=${CAP_UNET:-4.6} EVALUATOR_PT="$SEED/evaluator.pt" \
  EXTRA_ARGS="${EXTRA_ARGS:-} --vae-blocks 32,64,96 --amp" PYTHON="$PY" \
  setsid bash training/gpu/run-training.sh "$R/b" > "$R/b.log" 2>&1 < /dev/null &

for f in vae.pt vae_decoder_ft.pt unet.pt latents.pt remap.json evaluator.pt; do cp "$SEED/$f" "$R/a/work/"; done
(
  set -e
  # the same 100,000 images (data_seed 1) as run b: wait for b's data stage and share its files
  until [ -f "$R/b/work/train.npz" ] && [ -f "$R/b/work/train_attrs.json" ]; do
    [ -f "$R/b/FAILED" ] && { echo "b failed before its data"; exit 1; }
    sleep 1
  done
  for f in train.npz captions.npy train_attrs.json; do ln -sf "$R/b/work/$f" "$R/a/work/$f"; done
  export TRAIN_WORK="$R/a/work" TRAIN_THREADS=8
  # shellcheck disable=SC2206
  args=(--config gpu ${DEVICE:+--device "$DEVICE"} ${EXTRA_ARGS:-})
  "$PY" training/train.py "${args[@]}" --stage latents --stage unet_more --max-minutes-unet_more "${CAP_MORE:-7.4}"
  "$PY" training/train.py "${args[@]}" --stage samples || echo "samples failed"
  "$PY" training/train.py "${args[@]}" --package "$R/a/out"
  echo "total $(elapsed)s" > "$R/a/DONE"
) > "$R/a.log" 2>&1 < /dev/null &

finished() { { [ -f "$R/a/DONE" ] || ! kill -0 "$1" 2>/dev/null; } && { [ -f "$R/b/DONE" ] || [ -f "$R/b/FAILED" ]; }; }
A_PID=$!
while [ "$(elapsed)" -lt "$DEADLINE" ] && ! finished "$A_PID"; do
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader >> "$OUT/smi.log" 2>/dev/null
  echo "$(elapsed)s: b $(tail -n 1 "$R/b.log" 2>/dev/null) | a $(tail -n 1 "$R/a.log" 2>/dev/null)" >> "$OUT/progress.log"
  sleep 10
done
echo "stopped watching at $(elapsed)s" >> "$OUT/progress.log"
for run in a b; do
  mkdir -p "$OUT/$run"
  cp -r "$R/$run/out/." "$OUT/$run/" 2>/dev/null
  cp "$R/$run.log" "$OUT/$run/run.log" 2>/dev/null
  [ -d "$R/$run/logs" ] && cp -r "$R/$run/logs" "$OUT/$run/"
  for f in DONE FAILED; do [ -f "$R/$run/$f" ] && cp "$R/$run/$f" "$OUT/$run/"; done
done
ls -la "$OUT"/a "$OUT"/b
tail -n 3 "$OUT/progress.log"
