"""Stages vae (KL-regularised autoencoder) and decoder (fine-tunes the decoder alone, shape pixels weighted 5x)."""
import copy
import math
import os

import torch

import models as M
from pngio import write_png, grid
from trainer.common import (Clock, StageMeter, cpu_state, load_checkpoint, progress_of, save_atomic, tload, to_tensor,
                            to_uint8)
from trainer.data import load_images_on_device


def shape_weight(x):
    """Shape pixels (away from the image's median colour, i.e. its background) weigh 5x."""
    med = x.flatten(2).median(dim=2).values[:, :, None, None]
    return 1.0 + 4.0 * ((x - med).abs().sum(dim=1, keepdim=True) > 0.15).float()


def rec_loss(r, x, weighted):
    if weighted:
        w = shape_weight(x)
        return (w * ((r - x).abs() + (r - x) ** 2)).mean() / w.mean()
    return (r - x).abs().mean() + ((r - x) ** 2).mean()


def recon_png(run, vae, imgs, name):
    """16 training images over their round trips through the VAE, for a look."""
    vae.eval()
    with torch.no_grad():
        x = to_tensor(imgs[:16]).to(run.device)
        r = vae.decoder(vae.encode(x)[0])
    write_png(run.file(name), grid(list(to_uint8(x)) + list(to_uint8(r)), 16, 3))


def load_vae(run, with_ft=True):
    """The trained VAE (its own config from vae.pt), with the fine-tuned decoder unless with_ft is False."""
    s = tload(run.file("vae.pt"))
    vae = M.VAE(s.get("cfg", run.cfg["vae"]))
    vae.load_state_dict(s["model"])
    ft = run.file("vae_decoder_ft.pt")
    if with_ft and os.path.exists(ft):
        vae.decoder.load_state_dict(tload(ft)["decoder"])
    return vae.to(run.device).eval()


def _sample_posterior(mean, logvar, gen):
    return mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=gen, device=mean.device)


def stage_vae(run):
    c = run.cfg["vae"]
    ck = run.file("vae.pt")
    torch.manual_seed(10)
    vae = M.VAE(c).to(run.device)
    opt = torch.optim.Adam(vae.parameters(), lr=c["lr"])
    s, finished = load_checkpoint(ck, c["steps"])
    if finished:
        return
    if s is not None:
        vae.load_state_dict(s["model"])
        opt.load_state_dict(s["opt"])
    step, seconds, hist = progress_of(s)
    imgs = load_images_on_device(run)
    gen = run.generator(100 + step)
    clock = Clock(run.caps.get("vae"), seconds)
    meter = StageMeter(run, "vae", ["rec", "kl"], [4, 3], hist)
    done = False
    while not done:
        pr = clock.progress(step, c["steps"])
        # 50-step warmup, then cosine down to 10%
        lr = c["lr"] * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * pr)))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = torch.randint(len(imgs), (c["batch"],), generator=gen, device=run.device)
        x = to_tensor(imgs[idx])
        with run.autocast():
            mean, logvar = vae.encode(x)
            mean, logvar = mean.float(), logvar.float()
            r = vae.decoder(_sample_posterior(mean, logvar, gen)).float()
        rec = rec_loss(r, x, c["weighted_rec"])
        kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).mean()
        loss = rec + c["kl"] * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        meter.add(rec, kl)
        done = step >= c["steps"] or clock.over()
        meter.report(step, done, lambda: f"lr {lr:.2e}, {clock.elapsed():.0f}s")
        if meter.save_due(done):
            save_atomic({"model": cpu_state(vae.state_dict()), "opt": opt.state_dict(), "step": step, "done": done,
                         "seconds": clock.elapsed(), "history": hist, "cfg": copy.deepcopy(c),
                         "capped": done and step < c["steps"]}, ck)
            meter.saved()
    recon_png(run, vae, imgs, "vae_recon.png")


def stage_decoder(run):
    """Fine-tunes the VAE decoder alone (the encoder, hence the UNet's latents, stay as they are)."""
    c = run.cfg["vae"]
    ck = run.file("vae_decoder_ft.pt")
    vae = load_vae(run)
    opt = torch.optim.Adam(vae.decoder.parameters(), lr=c["ft_lr"])
    s, finished = load_checkpoint(ck, c["ft_steps"])
    if finished:
        return
    if s is not None:
        opt.load_state_dict(s["opt"])  # the decoder's weights are in vae_decoder_ft.pt, loaded by load_vae
    step, seconds, hist = progress_of(s)
    imgs = load_images_on_device(run)
    gen = run.generator(500 + step)
    clock = Clock(run.caps.get("decoder"), seconds)
    vae.decoder.train()
    meter = StageMeter(run, "decoder", ["rec"], [4], hist)
    done = False
    while not done:
        for g in opt.param_groups:
            g["lr"] = c["ft_lr"] * 0.5 * (1 + math.cos(math.pi * clock.progress(step, c["ft_steps"])))
        idx = torch.randint(len(imgs), (c["ft_batch"],), generator=gen, device=run.device)
        x = to_tensor(imgs[idx])
        with torch.no_grad():
            z = _sample_posterior(*vae.encode(x), gen)
        with run.autocast():
            r = vae.decoder(z).float()
        rec = rec_loss(r, x, True)
        opt.zero_grad()
        rec.backward()
        opt.step()
        step += 1
        meter.add(rec)
        done = step >= c["ft_steps"] or clock.over()
        meter.report(step, done, lambda: f"{clock.elapsed():.0f}s")
        if meter.save_due(done):
            save_atomic({"decoder": cpu_state(vae.decoder.state_dict()), "opt": opt.state_dict(), "step": step, "done": done,
                         "seconds": clock.elapsed(), "history": hist, "capped": done and step < c["ft_steps"]}, ck)
            meter.saved()
    recon_png(run, vae, imgs, "vae_recon_ft.png")
