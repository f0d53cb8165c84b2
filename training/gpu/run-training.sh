#!/usr/bin/env bash
# Trains the embedded model's VAE + UNet/text encoder on one GPU and writes a small results package.
# Start from the repo root, in the background:
#   setsid bash training/gpu/run-training.sh /tmp/train > /tmp/train.log 2>&1 < /dev/null &
# Then wait for /tmp/train/DONE (or /tmp/train/FAILED, which holds the error). Results: /tmp/train/out/
#   vae.npz, unet_te.npz (numpy weights, EMA UNet + text encoder), results.json (steps, losses, seconds per
#   stage, versions, VAE round-trip check), vae_recon.png, samples.png.
# Everything else (dataset, checkpoints, per-stage logs) stays under DIR/work and DIR/logs.
# Options (env): PYTHON (default python3), DEVICE (cuda|cpu, default cuda if available), CONFIG (gpu|cpu, default gpu),
#   CAP_VAE / CAP_DECODER / CAP_UNET (minutes of training loop per stage; defaults 1.5 / 0.5 / 2.6), CAP_MORE (minutes
#   of a second UNet phase, stage unet_more; none if unset), EXTRA_ARGS (more train.py flags, e.g.
#   the tiny CPU test: "--n-train 1000 --vae-steps 20 ..."), EVALUATOR_PT (evaluator checkpoint for the VAE
#   round-trip check; default training/.work/evaluator.pt if it is there). A stage that fails with --amp in EXTRA_ARGS is
#   retried without it (and the rest of the run goes on without it).
set -u -o pipefail
DIR=${1:?usage: run-training.sh OUTPUT_DIR}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
cd "$(dirname "$0")/../.."
rm -f "$DIR/DONE" "$DIR/FAILED"
mkdir -p "$DIR/work" "$DIR/logs" "$DIR/out"
PY=${PYTHON:-python3}
export TRAIN_WORK="$DIR/work"
export TRAIN_THREADS=${TRAIN_THREADS:-8}
CAP_VAE=${CAP_VAE:-1.5}
CAP_DECODER=${CAP_DECODER:-0.5}
CAP_UNET=${CAP_UNET:-2.6}
DEVARGS=()
[ -n "${DEVICE:-}" ] && DEVARGS+=(--device "$DEVICE")
DEVARGS+=(--config "${CONFIG:-gpu}")
# shellcheck disable=SC2206
EXTRA=(${EXTRA_ARGS:-})
EV=${EVALUATOR_PT:-training/.work/evaluator.pt}
if [ -f "$EV" ] && [ ! -f "$DIR/work/evaluator.pt" ]; then cp "$EV" "$DIR/work/evaluator.pt"; fi

fail() {
  echo "FAILED: $1" | tee "$DIR/FAILED"
  tail -n 40 "$DIR/logs/$2.log" >> "$DIR/FAILED" 2>/dev/null
  exit 1
}
T0=$(date +%s)
echo "{}" > "$DIR/stage_seconds.json"
stage() {  # stage NAME [train.py flags]
  local name=$1; shift
  local t=$(date +%s)
  echo "$(date -u +%H:%M:%S) stage $name start"
  if ! "$PY" training/train.py "${DEVARGS[@]}" "${EXTRA[@]}" --stage "$name" "$@" > "$DIR/logs/$name.log" 2>&1; then
    # bf16 autocast (--amp) is untested on some torch builds: drop it and resume the stage from its checkpoint
    [[ " ${EXTRA[*]} " == *" --amp "* ]] || fail "stage $name (exit $?)" "$name"
    echo "stage $name failed with --amp; retrying without it (log: logs/$name-amp.log)"
    mv "$DIR/logs/$name.log" "$DIR/logs/$name-amp.log"
    local noamp=()
    for e in "${EXTRA[@]}"; do [ "$e" = "--amp" ] || noamp+=("$e"); done
    EXTRA=("${noamp[@]}")
    "$PY" training/train.py "${DEVARGS[@]}" "${EXTRA[@]}" --stage "$name" "$@" > "$DIR/logs/$name.log" 2>&1 \
      || fail "stage $name (exit $?)" "$name"
  fi
  local dt=$(( $(date +%s) - t ))
  "$PY" - "$DIR/stage_seconds.json" "$name" "$dt" <<'PYEOF'
import json, sys
p, k, v = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = json.load(open(p)); d[k] = v; json.dump(d, open(p, "w"))
PYEOF
  echo "$(date -u +%H:%M:%S) stage $name done in ${dt}s (total $(( $(date +%s) - T0 ))s)"
  tail -n 2 "$DIR/logs/$name.log"
}

{
  echo "host $(hostname), $(nproc) cpus"
  "$PY" -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'numpy', numpy.__version__, 'gpu', torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
} | tee "$DIR/logs/env.log"

stage data
stage vae --max-minutes-vae "$CAP_VAE"
stage latents
stage decoder --max-minutes-decoder "$CAP_DECODER"
stage unet --max-minutes-unet "$CAP_UNET"
# optional second UNet phase (fresh optimizer from the EMA weights, lower lr): how the committed weights were made
[ -n "${CAP_MORE:-}" ] && stage unet_more --max-minutes-unet_more "$CAP_MORE"
# cheap extras: failures here do not lose the weights
"$PY" training/train.py "${DEVARGS[@]}" "${EXTRA[@]}" --stage vae_check > "$DIR/logs/vae_check.log" 2>&1 || echo "vae_check failed (see logs)"
"$PY" training/train.py "${DEVARGS[@]}" "${EXTRA[@]}" --stage samples > "$DIR/logs/samples.log" 2>&1 || echo "samples failed (see logs)"
"$PY" training/train.py "${DEVARGS[@]}" "${EXTRA[@]}" --package "$DIR/out" --stage-seconds "$DIR/stage_seconds.json" \
  > "$DIR/logs/package.log" 2>&1 || fail "package" package
ls -la "$DIR/out"
n=$(ls "$DIR/out" | wc -l)
[ "$n" -le 6 ] || fail "package has $n files (> 6)" package
echo "total $(( $(date +%s) - T0 ))s" | tee "$DIR/DONE"
cat "$DIR/stage_seconds.json" >> "$DIR/DONE"
