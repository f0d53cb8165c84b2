"""Stage latents: encodes the training set once with the VAE's encoder and fixes the latents' scaling_factor."""
import os
import time

import numpy as np
import torch

from trainer.common import log, save_atomic, tload, to_tensor
from trainer.data import load_images_on_device
from trainer.vae import load_vae

BATCH = 500


def stage_latents(run):
    p = run.file("latents.pt")
    # an imported results package leaves only the latents' statistics here: encode the set then, keeping its
    # scaling_factor (a UNet trained on those latents continues with the scale it was trained with)
    old = tload(p) if os.path.exists(p) else {}
    if "mean" in old:
        return
    imgs = load_images_on_device(run)
    vae = load_vae(run, with_ft=False)
    means, logvars = [], []
    t = time.time()
    with torch.no_grad():
        for i in range(0, len(imgs), BATCH):
            m, lv = vae.encode(to_tensor(imgs[i:i + BATCH]))
            means.append(m)
            logvars.append(lv)
        mean, logvar = torch.cat(means), torch.cat(logvars)
        std = mean.std().item()
        scale = old.get("scaling_factor") or 1.0 / std  # 1 / std: scaled latents have unit variance
        rec = []
        for i in range(0, min(2000, len(imgs)), BATCH):
            rec.append((vae.decoder(mean[i:i + BATCH]) - to_tensor(imgs[i:i + BATCH])).abs().mean().item())
    info = {"scaling_factor": round(scale, 5), "latent_std": std, "latent_mean": mean.mean().item(),
            "posterior_std_mean": torch.exp(0.5 * logvar).mean().item(),
            "recon_l1_first2000": float(np.mean(rec)), "encode_seconds": time.time() - t}
    log("latents:", info)
    save_atomic({"mean": mean.cpu(), "logvar": logvar.cpu(), **info}, p)
