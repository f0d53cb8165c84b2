"""Stages unet and unet_more: the UNet and text encoder trained jointly on the latents (eps-prediction, SD 1.5
schedule, uniform integer timesteps, Min-SNR-5 weighting, empty captions for classifier-free guidance, EMA weights).
unet_more continues a finished run from its EMA weights with a fresh optimizer and a lower warmup + cosine phase."""
import copy
import math
import os
from dataclasses import dataclass, field

import torch

import models as M
from clip_tokenizer import tokenizer_for
from trainer.common import Clock, StageMeter, alphas_cumprod, cpu_state, log, save_atomic, tload
from trainer.data import caption_pool, known_token_ids, remap_from_known


def make_unet_te(run, remap, ucfg=None, tcfg=None):
    torch.manual_seed(20)
    te = M.TextEncoder(tcfg or run.cfg["text"], remap)
    unet = M.UNet(ucfg or run.cfg["unet"])
    return unet, te


def load_unet_te(run):
    """The EMA UNet and text encoder of unet.pt (with their own configs), in eval mode, and the checkpoint."""
    s = tload(run.file("unet.pt"))
    unet, te = make_unet_te(run, remap_from_known(known_token_ids(run)), s.get("cfg"), s.get("text_cfg"))
    unet.load_state_dict(s["ema_unet"])
    te.load_state_dict(s["ema_te"])
    return unet.to(run.device).eval(), te.to(run.device).eval(), s


@dataclass
class Nets:
    """What the loop trains and what it checkpoints."""
    unet: torch.nn.Module
    te: torch.nn.Module
    ema_unet: torch.nn.Module
    ema_te: torch.nn.Module
    opt: torch.optim.Optimizer
    step: int = 0
    seconds: float = 0.0
    history: list = field(default_factory=list)
    phases: list = field(default_factory=list)  # unet_more phases: from_step, steps, lr, seconds

    def params(self):
        return list(self.unet.parameters()) + list(self.te.parameters())

    def ema_params(self):
        return list(self.ema_unet.parameters()) + list(self.ema_te.parameters())


@dataclass
class TrainingSet:
    """Everything a batch is drawn from, on the run's device."""
    lat_mean: torch.Tensor  # VAE posterior of each image
    lat_std: torch.Tensor
    scale: float  # scaling_factor
    pool: torch.Tensor  # [n_images, k, 77] caption ids
    empty: torch.Tensor  # the empty caption's ids (classifier-free guidance)


def build_nets(run, remap, ckpt, more):
    c = run.cfg["unet"]
    unet, te = make_unet_te(run, remap)
    unet, te = unet.to(run.device), te.to(run.device)
    ema_u, ema_t = M.UNet(c).to(run.device), M.TextEncoder(run.cfg["text"], remap).to(run.device)
    ema_u.load_state_dict(unet.state_dict())
    ema_t.load_state_dict(te.state_dict())
    nets = Nets(unet, te, ema_u, ema_t, None)
    nets.opt = torch.optim.AdamW(nets.params(), lr=c["lr"], weight_decay=0.01)
    if ckpt is not None:
        resume(nets, ckpt, more)
    return nets


def resume(nets, s, more):
    """From a checkpoint: the training weights and optimizer (resume), or the EMA weights and a fresh optimizer (more)."""
    src = ("ema_unet", "ema_te") if more else ("unet", "te")
    nets.unet.load_state_dict(s[src[0]])
    nets.te.load_state_dict(s[src[1]])
    nets.ema_unet.load_state_dict(s["ema_unet"])
    nets.ema_te.load_state_dict(s["ema_te"])
    if not more:
        nets.opt.load_state_dict(s["opt"])
    nets.step, nets.seconds = s["step"], s.get("seconds", 0.0)
    nets.history, nets.phases = s.get("history", []), s.get("phases", [])
    log(f"unet: {'continuing' if more else 'resumed'} at step {nets.step}")


def load_training_set(run, pool_np, empty_ids):
    lat = tload(run.file("latents.pt"))
    data = TrainingSet(lat_mean=lat["mean"].to(run.device), lat_std=torch.exp(0.5 * lat["logvar"]).to(run.device),
                       scale=lat["scaling_factor"], pool=torch.from_numpy(pool_np).to(run.device),
                       empty=torch.tensor(empty_ids, dtype=torch.int32, device=run.device))
    assert data.pool.shape[0] == len(data.lat_mean), "caption pool and latents disagree"
    return data


def min_snr_weights(ac, gamma):
    """Min-SNR-gamma loss weight per timestep for eps-prediction: min(SNR, gamma) / SNR."""
    snr = ac / (1 - ac)
    return torch.clamp(snr, max=gamma) / snr


def learning_rate(c, clock, step, step0, more):
    """Linear warmup, then (with cosine) a cosine decay to 5% over max(steps done / steps, elapsed / cap)."""
    if more:
        pr = clock.progress(step - step0, c.get("more_steps", 8000))
        lr = more_lr(c) * min(1.0, (step - step0 + 1) / 100)
    else:
        pr = clock.progress(step, c["steps"])
        lr = c["lr"] * min(1.0, (step + 1) / c["warmup"])
    if c["cosine"]:
        lr *= 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * pr))
    return lr


def more_lr(c):
    return c["lr"] * c.get("more_lr_factor", 0.3)


def draw_batch(run, data, gen, bs, p_uncond):
    """Images, one of each image's captions (empty with probability p_uncond) and a latent drawn from the posterior.
    The draws' order is part of the run's reproducibility: keep it."""
    n_img, k_cap = data.pool.shape[0], data.pool.shape[1]
    idx = torch.randint(n_img, (bs,), generator=gen, device=run.device)
    kk = torch.randint(k_cap, (bs,), generator=gen, device=run.device)
    unc = torch.rand(bs, generator=gen, device=run.device) < p_uncond
    ids = torch.where(unc[:, None], data.empty[None], data.pool[idx, kk])
    mean = data.lat_mean[idx]
    x0 = (mean + data.lat_std[idx] * torch.randn(mean.shape, generator=gen, device=run.device)) * data.scale
    return ids, x0


def diffusion_loss(run, nets, ids, x0, ac, w_t, gen):
    """Noise x0 at uniform integer timesteps, predict the noise; Min-SNR-weighted mean squared error."""
    t = torch.randint(0, 1000, (x0.shape[0],), generator=gen, device=run.device)
    eps = torch.randn(x0.shape, generator=gen, device=run.device)
    a = ac[t][:, None, None, None]
    xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
    with run.autocast():
        ctx, _ = nets.te(ids)
        pred = nets.unet(xt, t.float(), ctx).float()
    return (((pred - eps) ** 2).mean(dim=(1, 2, 3)) * w_t[t]).mean()


def optimizer_step(nets, loss, ema_decay):
    nets.opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(nets.params(), 1.0)
    nets.opt.step()
    nets.step += 1
    update_ema(nets.ema_params(), nets.params(), min(ema_decay, (1 + nets.step) / (10 + nets.step)))


def update_ema(ema_params, params, d):
    with torch.no_grad():
        try:
            torch._foreach_mul_(ema_params, d)
            torch._foreach_add_(ema_params, [p.detach() for p in params], alpha=1 - d)
        except (AttributeError, RuntimeError, TypeError):  # torch builds without the fused foreach ops
            for pe, p in zip(ema_params, params):
                pe.mul_(d).add_(p.detach(), alpha=1 - d)


def save_checkpoint(run, nets, clock, done, more, step0, seconds0):
    c = run.cfg["unet"]
    phase = [{"from_step": step0, "steps": nets.step - step0, "lr": more_lr(c), "seconds": clock.elapsed()}] if more else []
    save_atomic({"unet": cpu_state(nets.unet.state_dict()), "te": cpu_state(nets.te.state_dict()),
                 "ema_unet": cpu_state(nets.ema_unet.state_dict()), "ema_te": cpu_state(nets.ema_te.state_dict()),
                 "opt": nets.opt.state_dict(), "step": nets.step,
                 "seconds": seconds0 + clock.elapsed() if more else clock.elapsed(),
                 "done": done, "history": nets.history, "cfg": copy.deepcopy(c), "text_cfg": copy.deepcopy(run.cfg["text"]),
                 "phases": nets.phases + phase, "capped": done and nets.step < c["steps"]}, run.file("unet.pt"))


def stage_unet(run, more=False):
    """Trains the UNet + text encoder. more=True (stage unet_more) continues a finished run from its EMA
    weights with a fresh optimizer and a second, lower warmup + cosine phase of its own cap (--max-minutes-unet_more)."""
    c = run.cfg["unet"]
    ck = run.file("unet.pt")
    s = tload(ck) if os.path.exists(ck) else None
    if more and s is None:
        raise SystemExit("unet_more needs a trained unet.pt")
    if not more and s is not None and (s.get("done") or s["step"] >= c["steps"]):
        return
    empty_ids = tokenizer_for(run.paths.tokenizer).encode77("")
    pool_np = caption_pool(run)
    nets = build_nets(run, remap_from_known(known_token_ids(run, pool_np)), s, more)
    del s
    step0, seconds0 = nets.step, nets.seconds
    data = load_training_set(run, pool_np, empty_ids)
    ac = alphas_cumprod().to(run.device)
    w_t = min_snr_weights(ac, c["min_snr"])
    gen = run.generator(2000 + nets.step)
    clock = Clock(run.caps.get("unet_more"), 0.0) if more else Clock(run.caps.get("unet"), nets.seconds)
    meter = StageMeter(run, "unet", ["loss"], [4], nets.history)
    log(f"unet params {sum(p.numel() for p in nets.unet.parameters())}, "
        f"text encoder params {sum(p.numel() for p in nets.te.parameters())}")
    done = False
    while not done:
        lr = learning_rate(c, clock, nets.step, step0, more)
        for g in nets.opt.param_groups:
            g["lr"] = lr
        bs = c["batch"] if nets.step < 600 else c["batch_from_600"]
        ids, x0 = draw_batch(run, data, gen, bs, c["p_uncond"])
        loss = diffusion_loss(run, nets, ids, x0, ac, w_t, gen)
        optimizer_step(nets, loss, c["ema"])
        meter.add(loss)
        done = (nets.step - step0 >= c.get("more_steps", 8000)) if more else nets.step >= c["steps"]
        done = done or clock.over()
        meter.report(nets.step, done, lambda: f"lr {lr:.2e}, {clock.elapsed() / 60:.1f} min")
        if meter.save_due(done):
            save_checkpoint(run, nets, clock, done, more, step0, seconds0)
            meter.saved()
