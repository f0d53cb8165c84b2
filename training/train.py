"""Trains the embedded default model of Restart Studio and exports it in diffusers-ONNX layout.

One command runs every stage (each resumes from the work dir if interrupted):
    /usr/bin/python3 training/train.py
Stages: data, vae, latents, unet, decoder, evaluator, export, samples (+ vae_check, package).
`--stage NAME` runs one stage only.  `--device cuda|cpu` (default: cuda if available) and `--config gpu|cpu`
(default: gpu on cuda, cpu otherwise) pick where and how big; `--max-minutes-STAGE` caps a stage's wall time.
Environment: TRAIN_WORK (work dir, default training/.work), EXPORT_DIR (export destination, default
models/restart-shapes-64), TOKENIZER_DIR (SD 1.5 tokenizer files; default ../shared/reference/sd15-tokenizer,
else models/restart-shapes-64/tokenizer), TRAIN_THREADS (CPU threads, default 2).
`--package DIR` writes the trained weights as .npz + results.json into DIR; `--import-results DIR` loads such a
package into the work dir's checkpoint format (for export / samples on another machine).
"""
import argparse
import copy
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import shapes_data as D  # noqa: E402
import models as M  # noqa: E402
from clip_tokenizer import ClipTokenizer, EOS  # noqa: E402
from pngio import write_png, grid  # noqa: E402

ROOT = os.path.dirname(HERE)
DEFAULT_WORK = os.path.join(HERE, ".work")
WORK = os.path.abspath(os.environ.get("TRAIN_WORK") or DEFAULT_WORK)
SHARED = os.path.join(ROOT, "..", "shared", "reference")
if not os.path.isdir(SHARED):
    SHARED = os.path.join(ROOT, "shared", "reference")
MODEL_REPO_DIR = os.path.join(ROOT, "models", "restart-shapes-64")
OUT = os.path.abspath(os.environ.get("EXPORT_DIR") or MODEL_REPO_DIR)


def _tokenizer_dir():
    for d in (os.environ.get("TOKENIZER_DIR"), os.path.join(SHARED, "sd15-tokenizer"), os.path.join(MODEL_REPO_DIR, "tokenizer")):
        if d and os.path.exists(os.path.join(d, "vocab.json")) and os.path.exists(os.path.join(d, "merges.txt")):
            return d
    raise FileNotFoundError("no SD 1.5 tokenizer found (set TOKENIZER_DIR)")


TOKENIZER_DIR = _tokenizer_dir()

torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", "2")))
DEV = torch.device("cpu")  # set in main (--device)
CAPS = {}  # stage -> wall-clock cap in seconds (--max-minutes-STAGE)
AMP = False  # --amp: bf16 autocast in the training loops (weights, losses and EMA stay float32)

CFG = {
    "n_train": 40000, "data_seed": 1, "captions_per_image": 8,
    "vae": {"block_out_channels": [16, 32, 64, 64], "layers_per_block": 1, "norm_num_groups": 8,
            "latent_channels": 4, "steps": 2100, "batch": 16, "lr": 1e-3, "kl": 5e-4, "weighted_rec": False,
            "ft_steps": 1500, "ft_lr": 3e-4, "ft_batch": 32},
    "text": {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 3, "num_attention_heads": 4,
             "max_position_embeddings": 77},
    "unet": {"block_out_channels": [48, 96], "layers_per_block": 1, "norm_num_groups": 16, "attention_head_dim": 4,
             "cross_attention_dim": 64, "in_channels": 4, "out_channels": 4,
             "steps": 2400, "batch": 64, "batch_from_600": 32, "lr": 4e-4, "warmup": 100, "cosine": False,
             "ema": 0.999, "p_uncond": 0.1, "min_snr": 5.0},
    "eval": {"n_train": 30000, "seed": 2, "n_test": 2000, "test_seed": 3, "n_ref": 5000, "ref_seed": 4,
             "steps": 3000, "batch": 64, "lr": 1.5e-3, "feat": 64},
    "log_seconds": 30.0, "save_seconds": 120.0,
}

# The one-H100 configuration: bigger batches, more data, cosine schedules, a wider VAE that downsamples 4x
# (16x16 latents for 64x64 images; ONNX VAE encoder + decoder ~6.9 MB), shape-pixel-weighted reconstruction
# from the start. Step counts are upper bounds; the launcher caps each stage's wall time (--max-minutes-*).
GPU_CFG = {
    "n_train": 100000,
    "vae": {"block_out_channels": [32, 64, 96], "steps": 8000, "batch": 128, "lr": 1e-3, "weighted_rec": True,
            "ft_steps": 4000, "ft_lr": 2e-4, "ft_batch": 128},
    "unet": {"steps": 20000, "batch": 256, "batch_from_600": 256, "lr": 1e-3, "warmup": 500, "cosine": True, "ema": 0.999},
    "log_seconds": 10.0, "save_seconds": 60.0,
}


def apply_cfg(over, base=CFG):
    for k, v in over.items():
        if isinstance(v, dict):
            apply_cfg(v, base[k])
        else:
            base[k] = v


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def tload(path):
    """torch.load onto the CPU that works on torch 1.13 and on torch >= 2.6 (weights_only default)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except TypeError:
        return torch.load(path, map_location="cpu")


def cpu_state(sd):
    return {k: v.detach().cpu() for k, v in sd.items()}


def save_atomic(obj, path):
    torch.save(obj, path + ".tmp")
    os.replace(path + ".tmp", path)


def to_tensor(imgs):
    """uint8 NHWC (numpy or tensor) -> float NCHW in [-1, 1] on the tensor's device."""
    if isinstance(imgs, np.ndarray):
        imgs = torch.from_numpy(imgs)
    return imgs.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def to_uint8(x):
    return ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def alphas_cumprod():
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, 0).float()


def autocast():
    """bf16 autocast for a training forward pass when --amp is on (a no-op context otherwise)."""
    return torch.autocast(DEV.type, dtype=torch.bfloat16, enabled=AMP)


def latent_hw(vc, image=64):
    """Latent side for an image side: the VAE downsamples 2x per block after the first (diffusers' vae_scale_factor)."""
    return image // 2 ** (len(vc["block_out_channels"]) - 1)


def make_gen(seed):
    return torch.Generator(device=DEV).manual_seed(seed)


class Clock:
    """Wall-clock cap of a stage: `progress(step, steps)` is max(step/steps, elapsed/cap), so a capped stage still
    runs its whole lr schedule (in less steps); `over()` tells when the cap is reached."""

    def __init__(self, stage, spent=0.0):
        self.cap = CAPS.get(stage)
        self.t0 = time.time() - spent

    def elapsed(self):
        return time.time() - self.t0

    def progress(self, step, steps):
        p = step / steps
        if self.cap:
            p = max(p, self.elapsed() / self.cap)
        return min(p, 1.0)

    def over(self):
        return bool(self.cap) and self.elapsed() >= self.cap


class StageMeter:
    """A training loop's bookkeeping: running means of its losses (summed on the device, so no sync per step),
    a log line and a history row every CFG["log_seconds"] (and at the end), and when a checkpoint is due."""

    def __init__(self, name, labels, digits, history):
        self.name, self.labels, self.digits, self.history = name, labels, digits, history
        self.sums = torch.zeros(len(labels), device=DEV)
        self.n = 0
        self.t_log = self.t_save = time.time()

    def add(self, *losses):
        self.sums += torch.stack([v.detach() for v in losses])
        self.n += 1

    def report(self, step, done, suffix):
        """Logs `<name> step N <label> <mean> ... (ms/step, suffix)` when due; suffix: a callable, formatted only then."""
        now = time.time()
        if now - self.t_log < CFG["log_seconds"] and not done:
            return
        means = (self.sums / self.n).tolist()
        values = " ".join(f"{label} {m:.{d}f}" for label, m, d in zip(self.labels, means, self.digits))
        log(f"{self.name} step {step} {values} ({(now - self.t_log) / self.n * 1000:.1f} ms/step, {suffix()})")
        self.history.append([step, *(round(m, d + 1) for m, d in zip(means, self.digits))])
        self.t_log = time.time(); self.n = 0; self.sums.zero_()

    def save_due(self, done):
        return done or time.time() - self.t_save >= CFG["save_seconds"]

    def saved(self):
        self.t_save = time.time()


# ------------------------------------------------------------------ data
_TOK = None


def _captions(attrs, seed, i, k, out):
    """Image i's k tokenized captions into out [k, 77]: their own seed (seed, i, 1), so the pool can be remade alone."""
    global _TOK
    if _TOK is None:
        _TOK = ClipTokenizer(TOKENIZER_DIR)
    crng = np.random.default_rng([seed, i, 1])
    for j in range(k):
        out[j] = _TOK.encode77(D.caption(attrs, crng))


def _gen_chunk(job):
    """Images lo..hi-1: image i comes from its own seed (data_seed, i), so the set is the same for any worker count."""
    seed, lo, hi, k = job
    imgs = np.zeros((hi - lo, D.SIZE, D.SIZE, 3), np.uint8)
    caps = np.zeros((hi - lo, k, 77), np.int32)
    attrs = []
    for i in range(lo, hi):
        rng = np.random.default_rng([seed, i])
        a = D.sample_attributes(rng)
        imgs[i - lo] = D.render(a, rng)
        _captions(a, seed, i, k, caps[i - lo])
        attrs.append(a)
    return imgs, caps, attrs


def stage_data():
    p = os.path.join(WORK, "train.npz")
    if os.path.exists(p):
        return
    t = time.time()
    n, k = CFG["n_train"], CFG["captions_per_image"]
    jobs = [(CFG["data_seed"], lo, min(n, lo + 500), k) for lo in range(0, n, 500)]
    workers = max(1, min(len(jobs), int(os.environ.get("DATA_WORKERS", os.cpu_count() or 1))))
    if workers > 1:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_gen_chunk, jobs, chunksize=1)
    else:
        parts = [_gen_chunk(j) for j in jobs]
    imgs = np.concatenate([q[0] for q in parts])
    caps = np.concatenate([q[1] for q in parts])
    attrs = [a for q in parts for a in q[2]]
    labels = {kk: np.array([a[kk] for a in attrs], np.int64) for kk in ("bg", "fg", "shape", "count")}
    np.save(os.path.join(WORK, "captions.npy.tmp.npy"), caps)
    os.replace(os.path.join(WORK, "captions.npy.tmp.npy"), os.path.join(WORK, "captions.npy"))
    with open(os.path.join(WORK, "train_attrs.json"), "w") as f:
        json.dump(attrs, f)
    np.savez(p + ".tmp.npz", imgs=imgs, **labels)
    os.replace(p + ".tmp.npz", p)
    write_png(os.path.join(WORK, "data_grid.png"), grid(list(imgs[:32]), 16, 2))
    log(f"data: {len(imgs)} images, {k} captions each, {workers} workers, in {time.time() - t:.1f}s")


def load_train():
    z = np.load(os.path.join(WORK, "train.npz"))
    with open(os.path.join(WORK, "train_attrs.json")) as f:
        attrs = json.load(f)
    return z["imgs"], attrs


def load_images_dev():
    """The training images as a uint8 NHWC tensor on DEV (kept as bytes: 1.2 GB for 100k images)."""
    return torch.from_numpy(np.load(os.path.join(WORK, "train.npz"))["imgs"]).to(DEV)


def shape_weight(x):
    """Shape pixels (away from the image's median colour, i.e. its background) weigh 5x."""
    med = x.flatten(2).median(dim=2).values[:, :, None, None]
    return 1.0 + 4.0 * ((x - med).abs().sum(dim=1, keepdim=True) > 0.15).float()


def rec_loss(r, x, weighted):
    if weighted:
        w = shape_weight(x)
        return (w * ((r - x).abs() + (r - x) ** 2)).mean() / w.mean()
    return (r - x).abs().mean() + ((r - x) ** 2).mean()


def recon_png(vae, imgs, path):
    vae.eval()
    with torch.no_grad():
        x = to_tensor(imgs[:16]).to(DEV)
        r = vae.decoder(vae.encode(x)[0])
    write_png(path, grid(list(to_uint8(x)) + list(to_uint8(r)), 16, 3))


# ------------------------------------------------------------------ VAE
def stage_vae():
    c = CFG["vae"]
    ck = os.path.join(WORK, "vae.pt")
    torch.manual_seed(10)
    vae = M.VAE(c).to(DEV)
    opt = torch.optim.Adam(vae.parameters(), lr=c["lr"])
    step, seconds, hist = 0, 0.0, []
    if os.path.exists(ck):
        s = tload(ck)
        if s.get("done") or s["step"] >= c["steps"]:
            return
        vae.load_state_dict(s["model"]); opt.load_state_dict(s["opt"]); step = s["step"]
        seconds, hist = s.get("seconds", 0.0), s.get("history", [])
    imgs = load_images_dev()
    gen = make_gen(100 + step)
    clock = Clock("vae", seconds)
    meter = StageMeter("vae", ["rec", "kl"], [4, 3], hist)
    done = False
    while not done:
        pr = clock.progress(step, c["steps"])
        lr = c["lr"] * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * pr)))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = torch.randint(len(imgs), (c["batch"],), generator=gen, device=DEV)
        x = to_tensor(imgs[idx])
        with autocast():
            mean, logvar = vae.encode(x)
            mean, logvar = mean.float(), logvar.float()
            z = mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=gen, device=DEV)
            r = vae.decoder(z).float()
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
    recon_png(vae, imgs, os.path.join(WORK, "vae_recon.png"))


def load_vae(with_ft=True):
    s = tload(os.path.join(WORK, "vae.pt"))
    vae = M.VAE(s.get("cfg", CFG["vae"]))
    vae.load_state_dict(s["model"])
    ft = os.path.join(WORK, "vae_decoder_ft.pt")
    if with_ft and os.path.exists(ft):
        vae.decoder.load_state_dict(tload(ft)["decoder"])
    return vae.to(DEV).eval()


def stage_decoder():
    """Fine-tunes the VAE decoder alone (the encoder, hence the UNet's latents, stay as they are)."""
    c = CFG["vae"]
    ck = os.path.join(WORK, "vae_decoder_ft.pt")
    vae = load_vae()
    opt = torch.optim.Adam(vae.decoder.parameters(), lr=c["ft_lr"])
    step, seconds, hist = 0, 0.0, []
    if os.path.exists(ck):
        s = tload(ck)
        if s.get("done") or s["step"] >= c["ft_steps"]:
            return
        opt.load_state_dict(s["opt"]); step = s["step"]; seconds, hist = s.get("seconds", 0.0), s.get("history", [])
    imgs = load_images_dev()
    gen = make_gen(500 + step)
    clock = Clock("decoder", seconds)
    vae.decoder.train()
    meter = StageMeter("decoder", ["rec"], [4], hist)
    done = False
    while not done:
        for g in opt.param_groups:
            g["lr"] = c["ft_lr"] * 0.5 * (1 + math.cos(math.pi * clock.progress(step, c["ft_steps"])))
        idx = torch.randint(len(imgs), (c["ft_batch"],), generator=gen, device=DEV)
        x = to_tensor(imgs[idx])
        with torch.no_grad():
            mean, logvar = vae.encode(x)
            z = mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=gen, device=DEV)
        with autocast():
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
    recon_png(vae, imgs, os.path.join(WORK, "vae_recon_ft.png"))


# ------------------------------------------------------------------ latents
def stage_latents():
    p = os.path.join(WORK, "latents.pt")
    # an imported results package leaves only the latents' statistics here: encode the set then, keeping its
    # scaling_factor (a UNet trained on those latents continues with the scale it was trained with)
    old = tload(p) if os.path.exists(p) else {}
    if "mean" in old:
        return
    imgs = load_images_dev()
    vae = load_vae(with_ft=False)
    means, logvars = [], []
    t = time.time()
    with torch.no_grad():
        for i in range(0, len(imgs), 500):
            m, lv = vae.encode(to_tensor(imgs[i:i + 500]))
            means.append(m); logvars.append(lv)
        mean, logvar = torch.cat(means), torch.cat(logvars)
        std = mean.std().item()
        scale = old.get("scaling_factor") or 1.0 / std
        rec = []
        for i in range(0, min(2000, len(imgs)), 500):
            rec.append((vae.decoder(mean[i:i + 500]) - to_tensor(imgs[i:i + 500])).abs().mean().item())
    info = {"scaling_factor": round(scale, 5), "latent_std": std, "latent_mean": mean.mean().item(),
            "posterior_std_mean": torch.exp(0.5 * logvar).mean().item(),
            "recon_l1_first2000": float(np.mean(rec)), "encode_seconds": time.time() - t}
    log("latents:", info)
    save_atomic({"mean": mean.cpu(), "logvar": logvar.cpu(), **info}, p)


# ------------------------------------------------------------------ captions / tokens
class Captioner:
    def __init__(self):
        self.tok = ClipTokenizer(TOKENIZER_DIR)
        self.cache = {}
        self.empty = self.tok.encode77("")

    def ids(self, text):
        v = self.cache.get(text)
        if v is None:
            v = self.cache[text] = self.tok.encode77(text)
        return v


def caption_pool():
    """int32 [n_images, k, 77]: k pre-tokenized captions per training image (written by stage data; made here for
    older work dirs that lack it)."""
    p = os.path.join(WORK, "captions.npy")
    if not os.path.exists(p):
        _, attrs = load_train()
        k = CFG["captions_per_image"]
        t = time.time()
        caps = np.concatenate([_gen_caps(attrs, lo, min(len(attrs), lo + 1000), k) for lo in range(0, len(attrs), 1000)])
        np.save(p + ".tmp.npy", caps)
        os.replace(p + ".tmp.npy", p)
        log(f"caption pool {caps.shape} in {time.time() - t:.1f}s")
    return np.load(p)


def _gen_caps(attrs, lo, hi, k):
    caps = np.zeros((hi - lo, k, 77), np.int32)
    for i in range(lo, hi):
        _captions(attrs[i], CFG["data_seed"], i, k, caps[i - lo])
    return caps


def build_remap(cap, pool=None):
    """Known caption token ids -> own rows (1..n); everything else -> row 0 (unknown)."""
    p = os.path.join(WORK, "remap.json")
    if os.path.exists(p):
        with open(p) as f:
            known = json.load(f)
    else:
        if pool is None:
            pool = caption_pool()
        known = sorted(set(np.unique(pool).tolist()) | set(cap.empty))
        with open(p, "w") as f:
            json.dump(known, f)
    return remap_from_known(known), known


def remap_from_known(known):
    remap = np.zeros(49408, np.int64)
    for r, i in enumerate(known):
        remap[i] = r + 1
    return remap


# ------------------------------------------------------------------ UNet + text encoder
def make_unet_te(remap, ucfg=None, tcfg=None):
    torch.manual_seed(20)
    te = M.TextEncoder(tcfg or CFG["text"], remap)
    unet = M.UNet(ucfg or CFG["unet"])
    return unet, te


def _foreach_ema(ema_params, params, d):
    with torch.no_grad():
        try:
            torch._foreach_mul_(ema_params, d)
            torch._foreach_add_(ema_params, [p.detach() for p in params], alpha=1 - d)
        except (AttributeError, RuntimeError, TypeError):
            for pe, p in zip(ema_params, params):
                pe.mul_(d).add_(p.detach(), alpha=1 - d)


def stage_unet(more=False):
    """Trains the UNet + text encoder. more=True (stage unet_more) continues a finished run from its EMA
    weights with a fresh optimizer and a second, lower warmup + cosine phase of its own cap (--max-minutes-unet_more)."""
    c = CFG["unet"]
    ck = os.path.join(WORK, "unet.pt")
    s = tload(ck) if os.path.exists(ck) else None
    if more and s is None:
        raise SystemExit("unet_more needs a trained unet.pt")
    if not more and s is not None and (s.get("done") or s["step"] >= c["steps"]):
        return
    cap = Captioner()
    pool_np = caption_pool()
    remap, known = build_remap(cap, pool_np)
    unet, te = make_unet_te(remap)
    unet, te = unet.to(DEV), te.to(DEV)
    params = list(unet.parameters()) + list(te.parameters())
    ema_u, ema_t = M.UNet(c).to(DEV), M.TextEncoder(CFG["text"], remap).to(DEV)
    ema_u.load_state_dict(unet.state_dict()); ema_t.load_state_dict(te.state_dict())
    opt = torch.optim.AdamW(params, lr=c["lr"], weight_decay=0.01)
    step, seconds, hist = 0, 0.0, []
    phases = []
    if s is not None:
        src = ("ema_unet", "ema_te") if more else ("unet", "te")
        unet.load_state_dict(s[src[0]]); te.load_state_dict(s[src[1]])
        ema_u.load_state_dict(s["ema_unet"]); ema_t.load_state_dict(s["ema_te"])
        if not more:
            opt.load_state_dict(s["opt"])
        step = s["step"]; seconds = s.get("seconds", 0.0); hist = s.get("history", []); phases = s.get("phases", [])
        log(f"unet: {'continuing' if more else 'resumed'} at step {step}")
    del s
    step0, seconds0 = step, seconds
    more_steps, more_lr = c.get("more_steps", 8000), c["lr"] * c.get("more_lr_factor", 0.3)
    lat = tload(os.path.join(WORK, "latents.pt"))
    scale = lat["scaling_factor"]
    lat_mean, lat_std = lat["mean"].to(DEV), torch.exp(0.5 * lat["logvar"]).to(DEV)
    del lat
    pool = torch.from_numpy(pool_np).to(DEV)
    n_img, k_cap = pool.shape[0], pool.shape[1]
    assert n_img == len(lat_mean), "caption pool and latents disagree"
    empty = torch.tensor(cap.empty, dtype=torch.int32, device=DEV)
    ac = alphas_cumprod().to(DEV)
    snr = ac / (1 - ac)
    w_t = torch.clamp(snr, max=c["min_snr"]) / snr
    gen = make_gen(2000 + step)
    ema_params = list(ema_u.parameters()) + list(ema_t.parameters())
    clock = Clock("unet_more", 0.0) if more else Clock("unet", seconds)
    meter = StageMeter("unet", ["loss"], [4], hist)
    log(f"unet params {sum(p.numel() for p in unet.parameters())}, text encoder params {sum(p.numel() for p in te.parameters())}")
    done = False
    while not done:
        if more:
            pr = clock.progress(step - step0, more_steps)
            lr = more_lr * min(1.0, (step - step0 + 1) / 100)
        else:
            pr = clock.progress(step, c["steps"])
            lr = c["lr"] * min(1.0, (step + 1) / c["warmup"])
        if c["cosine"]:
            lr *= 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * pr))
        for g in opt.param_groups:
            g["lr"] = lr
        bs = c["batch"] if step < 600 else c["batch_from_600"]
        idx = torch.randint(n_img, (bs,), generator=gen, device=DEV)
        kk = torch.randint(k_cap, (bs,), generator=gen, device=DEV)
        unc = torch.rand(bs, generator=gen, device=DEV) < c["p_uncond"]
        ids = torch.where(unc[:, None], empty[None], pool[idx, kk])
        x0 = (lat_mean[idx] + lat_std[idx] * torch.randn(lat_mean[idx].shape, generator=gen, device=DEV)) * scale
        t = torch.randint(0, 1000, (bs,), generator=gen, device=DEV)
        eps = torch.randn(x0.shape, generator=gen, device=DEV)
        a = ac[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        with autocast():
            ctx, _ = te(ids)
            pred = unet(xt, t.float(), ctx).float()
        loss = (((pred - eps) ** 2).mean(dim=(1, 2, 3)) * w_t[t]).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        _foreach_ema(ema_params, params, min(c["ema"], (1 + step) / (10 + step)))
        meter.add(loss)
        done = (step - step0 >= more_steps) if more else step >= c["steps"]
        done = done or clock.over()
        meter.report(step, done, lambda: f"lr {lr:.2e}, {clock.elapsed() / 60:.1f} min")
        if meter.save_due(done):
            save_atomic({"unet": cpu_state(unet.state_dict()), "te": cpu_state(te.state_dict()),
                         "ema_unet": cpu_state(ema_u.state_dict()), "ema_te": cpu_state(ema_t.state_dict()),
                         "opt": opt.state_dict(), "step": step, "seconds": seconds0 + clock.elapsed() if more else clock.elapsed(),
                         "done": done, "history": hist, "cfg": copy.deepcopy(c), "text_cfg": copy.deepcopy(CFG["text"]),
                         "phases": phases + ([{"from_step": step0, "steps": step - step0, "lr": more_lr, "seconds": clock.elapsed()}] if more else []),
                         "capped": done and step < c["steps"]}, ck)
            meter.saved()


def load_unet_te():
    cap = Captioner()
    s = tload(os.path.join(WORK, "unet.pt"))
    remap, _ = build_remap(cap)
    unet, te = make_unet_te(remap, s.get("cfg"), s.get("text_cfg"))
    unet.load_state_dict(s["ema_unet"]); te.load_state_dict(s["ema_te"])
    return unet.to(DEV).eval(), te.to(DEV).eval(), cap, s


# ------------------------------------------------------------------ evaluator
EVAL_HEADS = {"background": len(D.COLOR_NAMES), "shape": len(D.SHAPES), "color": len(D.COLOR_NAMES), "count": 2}


def eval_labels(labels):
    return {"background": labels["bg"], "shape": labels["shape"], "color": labels["fg"], "count": labels["count"] - 1}


def stage_evaluator():
    c = CFG["eval"]
    ck = os.path.join(WORK, "evaluator.pt")
    torch.manual_seed(30)
    net = M.Evaluator(EVAL_HEADS, c["feat"])
    opt = torch.optim.Adam(net.parameters(), lr=c["lr"])
    step = 0
    if os.path.exists(ck):
        s = tload(ck)
        net.load_state_dict(s["model"]); opt.load_state_dict(s["opt"]); step = s["step"]
    if step < c["steps"]:
        imgs, labels, _ = D.make_dataset(c["n_train"], c["seed"])
        y = {k: torch.from_numpy(v) for k, v in eval_labels(labels).items()}
        x_all = to_tensor(imgs)
        rng = np.random.default_rng(300 + step)
        net.train()
        t0 = time.time()
        while step < c["steps"]:
            for g in opt.param_groups:
                g["lr"] = c["lr"] * 0.5 * (1 + math.cos(math.pi * step / c["steps"]))
            idx = torch.from_numpy(rng.integers(c["n_train"], size=c["batch"]))
            x = x_all[idx].clone()
            # robustness to generated images: blur a third of the batch (1-2 box blurs), add a little noise
            for _ in range(int(rng.integers(1, 3))):
                sel = torch.from_numpy(rng.random(c["batch"]) < 0.33)
                x[sel] = F.avg_pool2d(F.pad(x[sel], (1, 1, 1, 1), mode="replicate"), 3, stride=1)
            x = x + torch.randn_like(x) * float(rng.uniform(0, 0.04))
            out = net(x)
            loss = sum(F.cross_entropy(o, y[k][idx]) for o, k in zip(out, EVAL_HEADS))
            opt.zero_grad(); loss.backward(); opt.step()
            step += 1
            if step % 50 == 0:
                log(f"evaluator step {step} loss {loss.item():.4f} ({(time.time() - t0) / 50:.2f}s/step)")
                t0 = time.time()
            if step % 250 == 0 or step == c["steps"]:
                save_atomic({"model": net.state_dict(), "opt": opt.state_dict(), "step": step}, ck)
    net.eval()
    # held-out accuracy (real images, and the same images through the VAE)
    imgs, labels, _ = D.make_dataset(c["n_test"], c["test_seed"])
    y = eval_labels(labels)
    res = {}
    with torch.no_grad():
        x = to_tensor(imgs)
        for name, xx in (("real", x), ("real_blurred", F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1))):
            out = net(xx)
            res[name] = {k: float((o.argmax(1).numpy() == y[k]).mean()) for o, k in zip(out, EVAL_HEADS)}
        ref, _, _ = D.make_dataset(c["n_ref"], c["ref_seed"])
        f = net(to_tensor(ref))[-1].double().numpy()
    log("evaluator accuracy", res)
    with open(os.path.join(WORK, "evaluator_metrics.json"), "w") as fo:
        json.dump({"heldout_n": c["n_test"], "accuracy": res}, fo, indent=1)
    np.savez(os.path.join(WORK, "ref_stats.npz"), mean=f.mean(0), cov=np.cov(f, rowvar=False), n=len(f))


# ------------------------------------------------------------------ export
def export_onnx(model, args, path, inputs, outputs, axes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(model, args, path, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                      opset_version=17, do_constant_folding=True)


class TEWrap(torch.nn.Module):
    def __init__(self, te):
        super().__init__(); self.te = te

    def forward(self, input_ids):
        return self.te(input_ids)


class VaeDecWrap(torch.nn.Module):
    def __init__(self, vae):
        super().__init__(); self.vae = vae

    def forward(self, latent_sample):
        return self.vae.decoder(latent_sample).clamp(-1.0, 1.0)


class VaeEncWrap(torch.nn.Module):
    def __init__(self, vae):
        super().__init__(); self.vae = vae

    def forward(self, sample):
        return self.vae.encode(sample)[0]


def copy_file(src, dst):
    if os.path.exists(dst) and os.path.samefile(src, dst):
        return
    shutil.copyfile(src, dst)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def stage_export():
    global DEV
    DEV = torch.device("cpu")  # export on the CPU
    lat = tload(os.path.join(WORK, "latents.pt"))
    scale = lat["scaling_factor"]
    vae = load_vae()
    vc = vae.cfg
    unet, te, cap, s = load_unet_te()
    uc = s.get("cfg", CFG["unet"])
    tc = s.get("text_cfg", CFG["text"])
    os.makedirs(OUT, exist_ok=True)
    log("exporting to", OUT)
    b = 2
    hw = latent_hw(vc)
    ids = torch.tensor([cap.ids("a red circle on a blue background")] * b, dtype=torch.int32)
    export_onnx(TEWrap(te), (ids,), os.path.join(OUT, "text_encoder", "model.onnx"), ["input_ids"],
                ["last_hidden_state", "pooler_output"],
                {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}, "pooler_output": {0: "batch"}})
    ctx = te(ids)[0].detach()
    export_onnx(unet, (torch.randn(b, 4, hw, hw), torch.tensor([500.0, 500.0]), ctx),
                os.path.join(OUT, "unet", "model.onnx"), ["sample", "timestep", "encoder_hidden_states"], ["out_sample"],
                {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "timestep_batch"},
                 "encoder_hidden_states": {0: "batch", 1: "sequence"}, "out_sample": {0: "batch", 2: "height", 3: "width"}})
    export_onnx(VaeDecWrap(vae), (torch.randn(b, 4, hw, hw),), os.path.join(OUT, "vae_decoder", "model.onnx"),
                ["latent_sample"], ["sample"],
                {"latent_sample": {0: "batch", 2: "height", 3: "width"}, "sample": {0: "batch", 2: "height", 3: "width"}})
    export_onnx(VaeEncWrap(vae), (torch.randn(b, 3, 64, 64),), os.path.join(OUT, "vae_encoder", "model.onnx"),
                ["sample"], ["latent_sample"],
                {"sample": {0: "batch", 2: "height", 3: "width"}, "latent_sample": {0: "batch", 2: "height", 3: "width"}})
    # tokenizer and scheduler: the SD 1.5 files as they are
    os.makedirs(os.path.join(OUT, "tokenizer"), exist_ok=True)
    for f in ("merges.txt", "special_tokens_map.json", "tokenizer_config.json", "vocab.json"):
        copy_file(os.path.join(TOKENIZER_DIR, f), os.path.join(OUT, "tokenizer", f))
    os.makedirs(os.path.join(OUT, "scheduler"), exist_ok=True)
    confs = os.path.join(SHARED, "sd15-configs")
    if os.path.exists(os.path.join(confs, "model_index.json")):
        sched, mindex = os.path.join(confs, "scheduler_config.json"), os.path.join(confs, "model_index.json")
    else:  # no ../shared: the committed model folder has the same files (model_index.json already adapted)
        sched, mindex = (os.path.join(MODEL_REPO_DIR, "scheduler", "scheduler_config.json"),
                         os.path.join(MODEL_REPO_DIR, "model_index.json"))
    copy_file(sched, os.path.join(OUT, "scheduler", "scheduler_config.json"))
    with open(mindex) as f:
        mi = json.load(f)
    mi["_class_name"] = "OnnxStableDiffusionPipeline"
    for k, v in (("text_encoder", ["diffusers", "OnnxRuntimeModel"]), ("unet", ["diffusers", "OnnxRuntimeModel"]),
                 ("vae_decoder", ["diffusers", "OnnxRuntimeModel"]), ("vae_encoder", ["diffusers", "OnnxRuntimeModel"])):
        mi[k] = v
    mi.pop("vae", None)
    mi["requires_safety_checker"] = False
    write_json(os.path.join(OUT, "model_index.json"), mi)
    n = len(uc["block_out_channels"])
    write_json(os.path.join(OUT, "unet", "config.json"), {
        "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.10.2", "_name_or_path": "restart-studio/restart-shapes-64",
        "act_fn": "silu", "attention_head_dim": uc["attention_head_dim"], "block_out_channels": uc["block_out_channels"],
        "center_input_sample": False, "cross_attention_dim": uc["cross_attention_dim"],
        "down_block_types": ["CrossAttnDownBlock2D"] * n, "downsample_padding": 1, "dual_cross_attention": False,
        "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": uc["in_channels"], "layers_per_block": uc["layers_per_block"],
        "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": uc["norm_num_groups"], "num_class_embeds": None,
        "only_cross_attention": False, "out_channels": uc["out_channels"], "sample_size": hw,
        "up_block_types": ["CrossAttnUpBlock2D"] * n, "upcast_attention": False, "use_linear_projection": False})
    nv = len(vc["block_out_channels"])
    vcfg = {"_class_name": "AutoencoderKL", "_diffusers_version": "0.10.2", "_name_or_path": "restart-studio/restart-shapes-64",
            "act_fn": "silu", "block_out_channels": vc["block_out_channels"], "down_block_types": ["DownEncoderBlock2D"] * nv,
            "in_channels": 3, "latent_channels": vc["latent_channels"], "layers_per_block": vc["layers_per_block"],
            "norm_num_groups": vc["norm_num_groups"], "out_channels": 3, "sample_size": 64, "scaling_factor": scale,
            "up_block_types": ["UpDecoderBlock2D"] * nv}
    write_json(os.path.join(OUT, "vae_decoder", "config.json"), vcfg)
    write_json(os.path.join(OUT, "vae_encoder", "config.json"), vcfg)
    write_json(os.path.join(OUT, "text_encoder", "config.json"), {
        "_name_or_path": "restart-studio/restart-shapes-64", "architectures": ["CLIPTextModel"], "attention_dropout": 0.0,
        "bos_token_id": 49406, "dropout": 0.0, "eos_token_id": 49407, "hidden_act": "quick_gelu",
        "hidden_size": tc["hidden_size"], "initializer_factor": 1.0, "initializer_range": 0.02,
        "intermediate_size": tc["intermediate_size"], "layer_norm_eps": 1e-05,
        "max_position_embeddings": tc["max_position_embeddings"], "model_type": "clip_text_model",
        "num_attention_heads": tc["num_attention_heads"], "num_hidden_layers": tc["num_hidden_layers"], "pad_token_id": 49407,
        "projection_dim": tc["hidden_size"], "torch_dtype": "float32", "transformers_version": "4.19.2", "vocab_size": 49408})
    ub = uc["batch"] if uc["batch"] == uc["batch_from_600"] else f"{uc['batch']} (steps 1-600), then {uc['batch_from_600']}"
    train_info = {"unet_steps": s["step"], "unet_batch": ub, "unet_train_minutes": round(s["seconds"] / 60, 1),
                  "unet_parameters": sum(p.numel() for p in unet.parameters()),
                  "text_encoder_parameters": sum(p.numel() for p in te.parameters()),
                  "vae_parameters": sum(p.numel() for p in vae.parameters()),
                  "known_token_ids": len(build_remap(cap)[1]), "scaling_factor": scale}
    vs = tload(os.path.join(WORK, "vae.pt"))
    train_info["vae_steps"] = vs["step"]
    ftp = os.path.join(WORK, "vae_decoder_ft.pt")
    if os.path.exists(ftp):
        train_info["vae_decoder_finetune_steps"] = tload(ftp)["step"]
    rp = os.path.join(WORK, "results.json")
    if os.path.exists(rp):  # imported from a GPU run (--import-results)
        with open(rp) as f:
            r = json.load(f)
        train_info["trained_on"] = r.get("device")
        train_info["stage_seconds"] = r.get("stage_seconds")
    write_json(os.path.join(OUT, "training_info.json"), train_info)
    log("exported", train_info)
    export_evaluator()


def export_evaluator():
    ck = os.path.join(WORK, "evaluator.pt")
    if not os.path.exists(os.path.join(WORK, "evaluator_metrics.json")):
        log("evaluator not trained yet: skipped")
        return
    c = CFG["eval"]
    net = M.Evaluator(EVAL_HEADS, c["feat"])
    net.load_state_dict(tload(ck)["model"])
    net.eval()
    ed = os.path.join(OUT, "evaluator")
    names = list(EVAL_HEADS) + ["features"]
    export_onnx(net, (torch.randn(2, 3, 64, 64),), os.path.join(ed, "model.onnx"), ["image"], names,
                {"image": {0: "batch"}, **{k: {0: "batch"} for k in names}})
    with open(os.path.join(WORK, "evaluator_metrics.json")) as f:
        metrics = json.load(f)
    st = np.load(os.path.join(WORK, "ref_stats.npz"))
    write_json(os.path.join(ed, "evaluator.json"), {
        "input": {"name": "image", "shape": ["batch", 3, 64, 64], "dtype": "float32",
                  "range": "[-1, 1] (RGB, NCHW; the same convention as vae_decoder's output)"},
        "outputs": {"background": {"kind": "logits", "classes": D.COLOR_NAMES},
                    "shape": {"kind": "logits", "classes": D.SHAPES},
                    "color": {"kind": "logits", "classes": D.COLOR_NAMES,
                              "note": "colour of the shape(s); with two shapes both share kind and colour"},
                    "count": {"kind": "logits", "classes": [1, 2]},
                    "features": {"kind": "features", "size": c["feat"],
                                 "note": "penultimate ReLU layer; reference statistics in reference_stats.json"}},
        "heldout_accuracy": metrics})
    write_json(os.path.join(ed, "reference_stats.json"), {
        "description": "mean and covariance of the evaluator 'features' output over real procedural images "
                       f"(shapes_data.make_dataset({c['n_ref']}, seed={c['ref_seed']})), for Frechet distance",
        "n": int(st["n"]), "dim": c["feat"], "mean": [float(v) for v in st["mean"]],
        "cov": [[float(v) for v in row] for row in st["cov"]]})
    # 20 held-out real images with labels, for tests
    imgs, labels, _ = D.make_dataset(20, c["test_seed"])
    with open(os.path.join(ed, "heldout-20.rgb"), "wb") as f:
        f.write(imgs.tobytes())
    y = eval_labels(labels)
    write_json(os.path.join(ed, "heldout-20.json"), {
        "file": "heldout-20.rgb", "layout": "uint8 [20, 64, 64, 3] (N, H, W, RGB)",
        "source": f"shapes_data.make_dataset(20, seed={c['test_seed']}), the first images of the held-out set",
        "labels": {k: [int(v) for v in y[k]] for k in EVAL_HEADS}})
    # prompts of every attribute combination with their CLIP ids and labels (for prompt-accuracy checks)
    cap = Captioner()
    prompts = []
    for bg in range(len(D.COLOR_NAMES)):
        for fg in range(len(D.COLOR_NAMES)):
            if fg == bg:
                continue
            for sh in range(len(D.SHAPES)):
                for cnt in (1, 2):
                    c1, c2, s1 = D.COLOR_NAMES[fg], D.COLOR_NAMES[bg], D.SHAPES[sh]
                    art = "an" if c1[0] in "aeiou" else "a"
                    art2 = "an" if c2[0] in "aeiou" else "a"
                    text = f"{art} {c1} {s1} on {art2} {c2} background" if cnt == 1 else f"two {c1} {s1}s on {art2} {c2} background"
                    prompts.append({"prompt": text, "ids": cap.tok.encode(text),
                                    "labels": {"background": bg, "shape": sh, "color": fg, "count": cnt - 1}})
    write_json(os.path.join(ed, "prompts.json"), {
        "description": "one prompt per attribute combination; ids are CLIP ids (SD 1.5 tokenizer, unpadded); labels index the evaluator classes",
        "prompts": prompts})
    log("evaluator exported")


# ------------------------------------------------------------------ samples (PyTorch, for a look)
PROMPTS = ["a red circle on a blue background", "two yellow squares on black", "a green triangle on a white background",
           "a purple square on an orange background", "a small white circle in the top left corner on a red background",
           "two blue triangles on a yellow background", "an orange circle on a green background", "a black triangle on purple"]


@torch.no_grad()
def stage_samples(guidance=5.0, steps=20):
    lat = tload(os.path.join(WORK, "latents.pt"))
    scale = lat["scaling_factor"]
    vae = load_vae()
    unet, te, cap, s = load_unet_te()
    ac = alphas_cumprod().to(DEV)
    g = torch.Generator().manual_seed(0)
    per = 6
    ids = torch.tensor([cap.ids(p) for p in PROMPTS for _ in range(per)], dtype=torch.int32, device=DEV)
    n = len(ids)
    cond = te(ids)[0]
    unc = te(torch.tensor([cap.empty] * n, dtype=torch.int32, device=DEV))[0]
    ts = torch.linspace(999, 0, steps).round().long().to(DEV)
    hw = latent_hw(vae.cfg)
    x = torch.randn(n, 4, hw, hw, generator=g).to(DEV)
    for i, t in enumerate(ts):  # DDIM (eta 0)
        a = ac[t]
        e_u = unet(x, t.float().expand(n), unc)
        e_c = unet(x, t.float().expand(n), cond)
        e = e_u + guidance * (e_c - e_u)
        x0 = (x - (1 - a).sqrt() * e) / a.sqrt()
        ap = ac[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0, device=DEV)
        x = ap.sqrt() * x0 + (1 - ap).sqrt() * e
    img = vae.decoder(x / scale).clamp(-1, 1)
    path = os.path.join(WORK, f"samples_step{s['step']}.png")
    write_png(path, grid(list(to_uint8(img)), per, 2))
    log("samples written to", path)


def find_evaluator_ckpt():
    for p in (os.path.join(WORK, "evaluator.pt"), os.environ.get("EVALUATOR_PT") or "", os.path.join(DEFAULT_WORK, "evaluator.pt")):
        if p and os.path.exists(p):
            return p
    return None


@torch.no_grad()
def stage_vae_check():
    """Evaluator accuracy on held-out real images after a VAE round trip (encode, decode): the VAE's ceiling.
    Writes vae_check.json into the work dir."""
    p = find_evaluator_ckpt()
    if p is None:
        log("vae_check: no evaluator.pt (work dir, $EVALUATOR_PT or training/.work): skipped")
        return
    net = M.Evaluator(EVAL_HEADS, CFG["eval"]["feat"])
    net.load_state_dict(tload(p)["model"])
    net = net.to(DEV).eval()
    vae = load_vae()
    imgs, labels, _ = D.make_dataset(500, CFG["eval"]["test_seed"])
    y = eval_labels(labels)
    x = to_tensor(imgs).to(DEV)
    r = vae.decoder(vae.encode(x)[0]).clamp(-1, 1)
    acc = {k: float((o.argmax(1).cpu().numpy() == y[k]).mean()) for o, k in zip(net(r), EVAL_HEADS)}
    l1 = float((r - x).abs().mean())
    log("evaluator accuracy on VAE round trips of 500 held-out images:", acc, "L1", l1)
    write_json(os.path.join(WORK, "vae_check.json"), {"n": 500, "accuracy": acc, "l1": l1, "evaluator": p})


# ------------------------------------------------------------------ results package (GPU run -> this machine)
MAX_PKG_FILE = 16 * 1024 * 1024


def _npz(path, sd):
    np.savez(path, **{k: v.detach().cpu().numpy() for k, v in sd.items()})
    size = os.path.getsize(path)
    assert size <= MAX_PKG_FILE, f"{path} is {size} B > 16 MiB"
    return size


def package(out_dir, stage_seconds=None):
    """Final weights as numpy .npz (loadable by any torch) + results.json (+ small PNGs) into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    vs = tload(os.path.join(WORK, "vae.pt"))
    vae = M.VAE(vs.get("cfg", CFG["vae"]))
    vae.load_state_dict(vs["model"])
    ftp = os.path.join(WORK, "vae_decoder_ft.pt")
    fts = tload(ftp) if os.path.exists(ftp) else None
    if fts is not None:
        vae.decoder.load_state_dict(fts["decoder"])
    us = tload(os.path.join(WORK, "unet.pt"))
    lat = tload(os.path.join(WORK, "latents.pt"))
    with open(os.path.join(WORK, "remap.json")) as f:
        known = json.load(f)
    sizes = {"vae.npz": _npz(os.path.join(out_dir, "vae.npz"), vae.state_dict())}
    ut = {"unet." + k: v for k, v in us["ema_unet"].items()}
    ut.update({"te." + k: v for k, v in us["ema_te"].items() if k not in ("remap", "mask")})
    sizes["unet_te.npz"] = _npz(os.path.join(out_dir, "unet_te.npz"), ut)
    for src, dst in (("vae_recon_ft.png", "vae_recon.png"), ("samples_step%d.png" % us["step"], "samples.png")):
        sp = os.path.join(WORK, src)
        if not os.path.exists(sp) and src == "vae_recon_ft.png":
            sp = os.path.join(WORK, "vae_recon.png")
        if os.path.exists(sp) and os.path.getsize(sp) <= MAX_PKG_FILE:
            shutil.copyfile(sp, os.path.join(out_dir, dst))
            sizes[dst] = os.path.getsize(sp)
    vc = None
    if os.path.exists(os.path.join(WORK, "vae_check.json")):
        with open(os.path.join(WORK, "vae_check.json")) as f:
            vc = json.load(f)
    res = {
        "format": "restart-shapes-64 results package v1",
        "torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0],
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "cuda": torch.version.cuda, "cfg": {k: CFG[k] for k in ("n_train", "data_seed", "captions_per_image")},
        "vae": {"cfg": vs.get("cfg", CFG["vae"]), "steps": vs["step"], "capped": vs.get("capped", False),
                "seconds": vs.get("seconds"), "history": vs.get("history", [])},
        "decoder": None if fts is None else {"steps": fts["step"], "capped": fts.get("capped", False),
                                             "seconds": fts.get("seconds"), "history": fts.get("history", [])},
        "unet": {"cfg": us.get("cfg", CFG["unet"]), "text_cfg": us.get("text_cfg", CFG["text"]), "steps": us["step"],
                 "capped": us.get("capped", False), "seconds": us.get("seconds"), "history": us.get("history", []),
                 "phases": us.get("phases", [])},
        "latents": {k: v for k, v in lat.items() if k not in ("mean", "logvar")},
        "known_token_ids": known, "vae_check": vc, "stage_seconds": stage_seconds, "files": sizes,
    }
    write_json(os.path.join(out_dir, "results.json"), res)
    log("package written to", out_dir, sizes)


def import_results(src):
    """Loads a results package (package()) into the work dir's checkpoint format, for export / samples / vae_check."""
    with open(os.path.join(src, "results.json")) as f:
        res = json.load(f)
    targets = ["vae.pt", "vae_decoder_ft.pt", "unet.pt", "latents.pt", "remap.json", "results.json"]
    clash = [t for t in targets if os.path.exists(os.path.join(WORK, t))]
    if clash:
        raise SystemExit(f"import: {WORK} already has {clash}; use an empty TRAIN_WORK (nothing is overwritten)")
    os.makedirs(WORK, exist_ok=True)
    v = np.load(os.path.join(src, "vae.npz"))
    vae = M.VAE(res["vae"]["cfg"])
    vae.load_state_dict({k: torch.from_numpy(v[k]) for k in v.files})
    known = res["known_token_ids"]
    u = np.load(os.path.join(src, "unet_te.npz"))
    unet, te = make_unet_te(remap_from_known(known), res["unet"]["cfg"], res["unet"]["text_cfg"])
    unet.load_state_dict({k[5:]: torch.from_numpy(u[k]) for k in u.files if k.startswith("unet.")})
    tsd = {k[3:]: torch.from_numpy(u[k]) for k in u.files if k.startswith("te.")}
    tsd["remap"], tsd["mask"] = te.remap, te.mask
    te.load_state_dict(tsd)
    with open(os.path.join(WORK, "remap.json"), "w") as f:
        json.dump(known, f)
    dec = cpu_state(vae.decoder.state_dict())
    save_atomic({"model": cpu_state(vae.state_dict()), "step": res["vae"]["steps"], "done": True, "cfg": res["vae"]["cfg"],
                 "seconds": res["vae"]["seconds"], "history": res["vae"]["history"], "imported_from": src},
                os.path.join(WORK, "vae.pt"))
    if res.get("decoder"):
        save_atomic({"decoder": dec, "step": res["decoder"]["steps"], "done": True, "imported_from": src},
                    os.path.join(WORK, "vae_decoder_ft.pt"))
    save_atomic({"unet": cpu_state(unet.state_dict()), "te": cpu_state(te.state_dict()),
                 "ema_unet": cpu_state(unet.state_dict()), "ema_te": cpu_state(te.state_dict()),
                 "step": res["unet"]["steps"], "seconds": res["unet"]["seconds"], "done": True,
                 "cfg": res["unet"]["cfg"], "text_cfg": res["unet"]["text_cfg"], "history": res["unet"]["history"],
                 "imported_from": src}, os.path.join(WORK, "unet.pt"))
    save_atomic(dict(res["latents"]), os.path.join(WORK, "latents.pt"))
    shutil.copyfile(os.path.join(src, "results.json"), os.path.join(WORK, "results.json"))
    # the evaluator is not retrained on the GPU: copy the current one (never moved, never overwritten)
    if os.path.abspath(WORK) != os.path.abspath(DEFAULT_WORK):
        for f in ("evaluator.pt", "evaluator_metrics.json", "ref_stats.npz"):
            sp, dp = os.path.join(DEFAULT_WORK, f), os.path.join(WORK, f)
            if os.path.exists(sp) and not os.path.exists(dp):
                shutil.copyfile(sp, dp)
    log(f"imported {src} into {WORK}: vae step {res['vae']['steps']}, unet step {res['unet']['steps']}, "
        f"scaling_factor {res['latents']['scaling_factor']}")


def stage_real_sample(n=672, seed=5):
    """Fresh real images (never used in training) for the real-vs-real Frechet distance noise floor:
    uint8 [n, 64, 64, 3] in WORK/real-sample.rgb, read by `npm run model-quality -- --real FILE`."""
    imgs, _, _ = D.make_dataset(n, seed)
    path = os.path.join(WORK, "real-sample.rgb")
    with open(path + ".tmp", "wb") as f:
        f.write(np.ascontiguousarray(imgs).tobytes())
    os.replace(path + ".tmp", path)
    log(f"real sample: {n} images (seed {seed}) -> {path}")


STAGES = {"data": stage_data, "vae": stage_vae, "latents": stage_latents, "unet": stage_unet,
          "unet_more": lambda: stage_unet(more=True), "decoder": stage_decoder,
          "real_sample": stage_real_sample,
          "evaluator": stage_evaluator, "export": stage_export, "samples": stage_samples,
          "vae_check": stage_vae_check}
DEFAULT_RUN = ["data", "vae", "latents", "unet", "decoder", "evaluator", "export", "samples"]

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", action="append", choices=list(STAGES),
                    help="run only this stage (repeatable; in the order given)")
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    ap.add_argument("--config", choices=["cpu", "gpu"], default=None, help="default: gpu on cuda, cpu otherwise")
    ap.add_argument("--unet-steps", type=int, help="override the number of UNet steps (resumes and continues)")
    ap.add_argument("--vae-steps", type=int)
    ap.add_argument("--decoder-steps", type=int)
    ap.add_argument("--n-train", type=int, help="training images (stage data)")
    ap.add_argument("--vae-batch", type=int)
    ap.add_argument("--decoder-batch", type=int)
    ap.add_argument("--unet-batch", type=int)
    ap.add_argument("--vae-blocks", help="VAE block_out_channels, comma-separated (3 entries: 4x downsampling, 16x16 latents)")
    ap.add_argument("--amp", action="store_true", help="bf16 autocast in the training loops")
    for st in ("vae", "decoder", "unet", "unet_more"):
        ap.add_argument(f"--max-minutes-{st}", type=float, help=f"wall-clock cap of stage {st} (stops at a checkpoint)")
    ap.add_argument("--package", metavar="DIR", help="write the results package (.npz + results.json) into DIR")
    ap.add_argument("--stage-seconds", metavar="JSON", help="(with --package) JSON file of per-stage seconds")
    ap.add_argument("--import-results", metavar="DIR", help="load a results package into TRAIN_WORK")
    a = ap.parse_args()
    dev = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    DEV = torch.device(dev)
    if DEV.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    if (a.config or ("gpu" if DEV.type == "cuda" else "cpu")) == "gpu":
        apply_cfg(GPU_CFG)
    for flag, (sec, key) in {"unet_steps": ("unet", "steps"), "vae_steps": ("vae", "steps"), "decoder_steps": ("vae", "ft_steps"),
                             "vae_batch": ("vae", "batch"), "decoder_batch": ("vae", "ft_batch")}.items():
        if getattr(a, flag):
            CFG[sec][key] = getattr(a, flag)
    if a.unet_batch:
        CFG["unet"]["batch"] = CFG["unet"]["batch_from_600"] = a.unet_batch
    if a.n_train:
        CFG["n_train"] = a.n_train
    if a.vae_blocks:
        CFG["vae"]["block_out_channels"] = [int(v) for v in a.vae_blocks.split(",")]
    AMP = a.amp
    for st in ("vae", "decoder", "unet", "unet_more"):
        v = getattr(a, f"max_minutes_{st}")
        if v:
            CAPS[st] = v * 60.0
    os.makedirs(WORK, exist_ok=True)
    log(f"work dir {WORK}, device {DEV}, torch {torch.__version__}, tokenizer {TOKENIZER_DIR}")
    if a.import_results:
        import_results(a.import_results)
    t = time.time()
    todo = a.stage or ([] if (a.import_results or a.package) else DEFAULT_RUN)
    for name in todo:
        ts = time.time()
        STAGES[name]()
        log(f"stage {name} done in {time.time() - ts:.0f}s")
    if a.package:
        secs = None
        if a.stage_seconds and os.path.exists(a.stage_seconds):
            with open(a.stage_seconds) as f:
                secs = json.load(f)
        package(a.package, secs)
    log(f"total {time.time() - t:.0f}s")
