"""Trains the embedded default model of Restart Studio and exports it in diffusers-ONNX layout.

One command runs every stage (each resumes from the work dir if interrupted):
    /usr/bin/python3 training/train.py
Stages: data, vae, latents, unet, decoder, evaluator, export, samples (+ unet_more, vae_check, real_sample).
`--stage NAME` runs one stage only.  `--device cuda|cpu` (default: cuda if available) and `--config NAME`
(training/configs/NAME.json; default: gpu on cuda, cpu otherwise) pick where and how big; `--max-minutes-STAGE`
caps a stage's wall time. Environment: TRAIN_WORK (work dir, default training/.work), EXPORT_DIR (export
destination, default models/restart-shapes-64), TOKENIZER_DIR (SD 1.5 tokenizer files; default
../shared/reference/sd15-tokenizer, else models/restart-shapes-64/tokenizer), TRAIN_THREADS (CPU threads, default 2).
`--package DIR` writes the trained weights as .npz + results.json into DIR; `--import-results DIR` loads such a
package into the work dir's checkpoint format (for export / samples on another machine).
The stages live in training/trainer/ (one module per job); this file only reads the command line.
"""
import argparse
import json
import os
import time

import torch

from trainer.common import log
from trainer.config import Paths, Run, apply_overrides, config_names, load_config
from trainer.packaging import import_results, package
from trainer.stages import DEFAULT_RUN, STAGES

CAPPED_STAGES = ("vae", "decoder", "unet", "unet_more")


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", action="append", choices=list(STAGES),
                    help="run only this stage (repeatable; in the order given)")
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    ap.add_argument("--config", choices=config_names(), default=None,
                    help="training/configs/NAME.json (default: gpu on cuda, cpu otherwise)")
    ap.add_argument("--unet-steps", type=int, help="override the number of UNet steps (resumes and continues)")
    ap.add_argument("--vae-steps", type=int)
    ap.add_argument("--decoder-steps", type=int)
    ap.add_argument("--n-train", type=int, help="training images (stage data)")
    ap.add_argument("--vae-batch", type=int)
    ap.add_argument("--decoder-batch", type=int)
    ap.add_argument("--unet-batch", type=int)
    ap.add_argument("--vae-blocks", help="VAE block_out_channels, comma-separated (3 entries: 4x downsampling, 16x16 latents)")
    ap.add_argument("--amp", action="store_true", help="bf16 autocast in the training loops")
    for st in CAPPED_STAGES:
        ap.add_argument(f"--max-minutes-{st}", type=float, help=f"wall-clock cap of stage {st} (stops at a checkpoint)")
    ap.add_argument("--package", metavar="DIR", help="write the results package (.npz + results.json) into DIR")
    ap.add_argument("--stage-seconds", metavar="JSON", help="(with --package) JSON file of per-stage seconds")
    ap.add_argument("--import-results", metavar="DIR", help="load a results package into TRAIN_WORK")
    return ap.parse_args()


def make_run(a):
    device = torch.device(a.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    cfg = apply_overrides(load_config(a.config or ("gpu" if device.type == "cuda" else "cpu")), a)
    caps = {st: getattr(a, f"max_minutes_{st}") * 60.0 for st in CAPPED_STAGES if getattr(a, f"max_minutes_{st}")}
    return Run(cfg=cfg, paths=Paths.from_env(), device=device, amp=a.amp, caps=caps)


def main():
    torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", "2")))
    a = parse_args()
    run = make_run(a)
    os.makedirs(run.paths.work, exist_ok=True)
    log(f"work dir {run.paths.work}, device {run.device}, torch {torch.__version__}, tokenizer {run.paths.tokenizer}")
    if a.import_results:
        import_results(run, a.import_results)
    t = time.time()
    for name in a.stage or ([] if (a.import_results or a.package) else DEFAULT_RUN):
        ts = time.time()
        STAGES[name](run)
        log(f"stage {name} done in {time.time() - ts:.0f}s")
    if a.package:
        secs = None
        if a.stage_seconds and os.path.exists(a.stage_seconds):
            with open(a.stage_seconds) as f:
                secs = json.load(f)
        package(run, a.package, secs)
    log(f"total {time.time() - t:.0f}s")


if __name__ == "__main__":
    main()
