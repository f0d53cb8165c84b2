"""The results package: a GPU run's final weights as numpy .npz (loadable by any torch version) + results.json,
written there (--package DIR) and loaded here into the work dir's checkpoint format (--import-results DIR)."""
import json
import os
import shutil
import sys

import numpy as np
import torch

import models as M
from trainer.common import cpu_state, log, save_atomic, tload, write_json
from trainer.config import DEFAULT_WORK
from trainer.data import remap_from_known
from trainer.unet import make_unet_te

MAX_PKG_FILE = 16 * 1024 * 1024  # what one device call can bring back per file
IMPORTED = ["vae.pt", "vae_decoder_ft.pt", "unet.pt", "latents.pt", "remap.json", "results.json"]
EVALUATOR_FILES = ("evaluator.pt", "evaluator_metrics.json", "ref_stats.npz")


def _npz(path, sd):
    np.savez(path, **{k: v.detach().cpu().numpy() for k, v in sd.items()})
    size = os.path.getsize(path)
    assert size <= MAX_PKG_FILE, f"{path} is {size} B > 16 MiB"
    return size


def _copy_pngs(run, out_dir, unet_step, sizes):
    for src, dst in (("vae_recon_ft.png", "vae_recon.png"), ("samples_step%d.png" % unet_step, "samples.png")):
        sp = run.file(src)
        if not os.path.exists(sp) and src == "vae_recon_ft.png":
            sp = run.file("vae_recon.png")
        if os.path.exists(sp) and os.path.getsize(sp) <= MAX_PKG_FILE:
            shutil.copyfile(sp, os.path.join(out_dir, dst))
            sizes[dst] = os.path.getsize(sp)


def _read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def package(run, out_dir, stage_seconds=None):
    """Final weights as numpy .npz (loadable by any torch) + results.json (+ small PNGs) into out_dir."""
    cfg = run.cfg
    os.makedirs(out_dir, exist_ok=True)
    vs = tload(run.file("vae.pt"))
    vae = M.VAE(vs.get("cfg", cfg["vae"]))
    vae.load_state_dict(vs["model"])
    fts = tload(run.file("vae_decoder_ft.pt")) if os.path.exists(run.file("vae_decoder_ft.pt")) else None
    if fts is not None:
        vae.decoder.load_state_dict(fts["decoder"])
    us = tload(run.file("unet.pt"))
    lat = tload(run.file("latents.pt"))
    with open(run.file("remap.json")) as f:
        known = json.load(f)
    sizes = {"vae.npz": _npz(os.path.join(out_dir, "vae.npz"), vae.state_dict())}
    # the text encoder's remap and mask are rebuilt on import (from known_token_ids and the config)
    ut = {"unet." + k: v for k, v in us["ema_unet"].items()}
    ut.update({"te." + k: v for k, v in us["ema_te"].items() if k not in ("remap", "mask")})
    sizes["unet_te.npz"] = _npz(os.path.join(out_dir, "unet_te.npz"), ut)
    _copy_pngs(run, out_dir, us["step"], sizes)
    res = {
        "format": "restart-shapes-64 results package v1",
        "torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0],
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "cuda": torch.version.cuda, "cfg": {k: cfg[k] for k in ("n_train", "data_seed", "captions_per_image")},
        "vae": {"cfg": vs.get("cfg", cfg["vae"]), "steps": vs["step"], "capped": vs.get("capped", False),
                "seconds": vs.get("seconds"), "history": vs.get("history", [])},
        "decoder": None if fts is None else {"steps": fts["step"], "capped": fts.get("capped", False),
                                             "seconds": fts.get("seconds"), "history": fts.get("history", [])},
        "unet": {"cfg": us.get("cfg", cfg["unet"]), "text_cfg": us.get("text_cfg", cfg["text"]), "steps": us["step"],
                 "capped": us.get("capped", False), "seconds": us.get("seconds"), "history": us.get("history", []),
                 "phases": us.get("phases", [])},
        "latents": {k: v for k, v in lat.items() if k not in ("mean", "logvar")},
        "known_token_ids": known, "vae_check": _read_json(run.file("vae_check.json")), "stage_seconds": stage_seconds,
        "files": sizes,
    }
    write_json(os.path.join(out_dir, "results.json"), res)
    log("package written to", out_dir, sizes)


def import_results(run, src):
    """Loads a results package (package()) into the work dir's checkpoint format, for export / samples / vae_check."""
    work = run.paths.work
    with open(os.path.join(src, "results.json")) as f:
        res = json.load(f)
    clash = [t for t in IMPORTED if os.path.exists(run.file(t))]
    if clash:
        raise SystemExit(f"import: {work} already has {clash}; use an empty TRAIN_WORK (nothing is overwritten)")
    os.makedirs(work, exist_ok=True)
    v = np.load(os.path.join(src, "vae.npz"))
    vae = M.VAE(res["vae"]["cfg"])
    vae.load_state_dict({k: torch.from_numpy(v[k]) for k in v.files})
    known = res["known_token_ids"]
    u = np.load(os.path.join(src, "unet_te.npz"))
    unet, te = make_unet_te(run, remap_from_known(known), res["unet"]["cfg"], res["unet"]["text_cfg"])
    unet.load_state_dict({k[5:]: torch.from_numpy(u[k]) for k in u.files if k.startswith("unet.")})
    tsd = {k[3:]: torch.from_numpy(u[k]) for k in u.files if k.startswith("te.")}
    tsd["remap"], tsd["mask"] = te.remap, te.mask
    te.load_state_dict(tsd)
    with open(run.file("remap.json"), "w") as f:
        json.dump(known, f)
    save_atomic({"model": cpu_state(vae.state_dict()), "step": res["vae"]["steps"], "done": True, "cfg": res["vae"]["cfg"],
                 "seconds": res["vae"]["seconds"], "history": res["vae"]["history"], "imported_from": src},
                run.file("vae.pt"))
    if res.get("decoder"):
        save_atomic({"decoder": cpu_state(vae.decoder.state_dict()), "step": res["decoder"]["steps"], "done": True,
                     "imported_from": src}, run.file("vae_decoder_ft.pt"))
    # the package holds the EMA weights only: they become both the training and the EMA weights
    save_atomic({"unet": cpu_state(unet.state_dict()), "te": cpu_state(te.state_dict()),
                 "ema_unet": cpu_state(unet.state_dict()), "ema_te": cpu_state(te.state_dict()),
                 "step": res["unet"]["steps"], "seconds": res["unet"]["seconds"], "done": True,
                 "cfg": res["unet"]["cfg"], "text_cfg": res["unet"]["text_cfg"], "history": res["unet"]["history"],
                 "imported_from": src}, run.file("unet.pt"))
    save_atomic(dict(res["latents"]), run.file("latents.pt"))
    shutil.copyfile(os.path.join(src, "results.json"), run.file("results.json"))
    # the evaluator is not retrained on the GPU: copy the current one (never moved, never overwritten)
    if os.path.abspath(work) != os.path.abspath(DEFAULT_WORK):
        for f in EVALUATOR_FILES:
            sp, dp = os.path.join(DEFAULT_WORK, f), run.file(f)
            if os.path.exists(sp) and not os.path.exists(dp):
                shutil.copyfile(sp, dp)
    log(f"imported {src} into {work}: vae step {res['vae']['steps']}, unet step {res['unet']['steps']}, "
        f"scaling_factor {res['latents']['scaling_factor']}")
