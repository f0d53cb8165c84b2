"""Helpers every stage uses: logging, checkpoints, image tensors, the SD 1.5 noise schedule, and the two pieces of
training-loop bookkeeping (Clock: wall-clock caps; StageMeter: running means, log lines, checkpoint timing)."""
import json
import os
import shutil
import time

import numpy as np
import torch


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
    # an interrupted run never leaves a half-written checkpoint behind
    torch.save(obj, path + ".tmp")
    os.replace(path + ".tmp", path)


def load_checkpoint(path, steps):
    """(checkpoint or None, finished): a training stage's checkpoint, and whether it already did its `steps`."""
    s = tload(path) if os.path.exists(path) else None
    return s, s is not None and bool(s.get("done") or s["step"] >= steps)


def progress_of(s):
    """(step, seconds, history) a training loop continues from: a fresh start without a checkpoint."""
    return (0, 0.0, []) if s is None else (s["step"], s.get("seconds", 0.0), s.get("history", []))


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def copy_file(src, dst):
    if os.path.exists(dst) and os.path.samefile(src, dst):
        return
    shutil.copyfile(src, dst)


def to_tensor(imgs):
    """uint8 NHWC (numpy or tensor) -> float NCHW in [-1, 1] on the tensor's device."""
    if isinstance(imgs, np.ndarray):
        imgs = torch.from_numpy(imgs)
    return imgs.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def to_uint8(x):
    return ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def alphas_cumprod():
    """SD 1.5's schedule (scaled_linear 0.00085..0.012, 1000 steps), the one the exported scheduler_config.json names."""
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, 0).float()


def latent_hw(vae_cfg, image=64):
    """Latent side for an image side: the VAE downsamples 2x per block after the first (diffusers' vae_scale_factor)."""
    return image // 2 ** (len(vae_cfg["block_out_channels"]) - 1)


class Clock:
    """Wall-clock cap of a stage: `progress(step, steps)` is max(step/steps, elapsed/cap), so a capped stage still
    runs its whole lr schedule (in less steps); `over()` tells when the cap is reached."""

    def __init__(self, cap, spent=0.0):
        self.cap = cap
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
    a log line and a history row every cfg["log_seconds"] (and at the end), and when a checkpoint is due."""

    def __init__(self, run, name, labels, digits, history):
        self.name, self.labels, self.digits, self.history = name, labels, digits, history
        self.log_seconds, self.save_seconds = run.cfg["log_seconds"], run.cfg["save_seconds"]
        self.sums = torch.zeros(len(labels), device=run.device)
        self.n = 0
        self.t_log = self.t_save = time.time()

    def add(self, *losses):
        self.sums += torch.stack([v.detach() for v in losses])
        self.n += 1

    def report(self, step, done, suffix):
        """Logs `<name> step N <label> <mean> ... (ms/step, suffix)` when due; suffix: a callable, formatted only then."""
        now = time.time()
        if now - self.t_log < self.log_seconds and not done:
            return
        means = (self.sums / self.n).tolist()
        values = " ".join(f"{label} {m:.{d}f}" for label, m, d in zip(self.labels, means, self.digits))
        log(f"{self.name} step {step} {values} ({(now - self.t_log) / self.n * 1000:.1f} ms/step, {suffix()})")
        self.history.append([step, *(round(m, d + 1) for m, d in zip(means, self.digits))])
        self.t_log = time.time()
        self.n = 0
        self.sums.zero_()

    def save_due(self, done):
        return done or time.time() - self.t_save >= self.save_seconds

    def saved(self):
        self.t_save = time.time()
