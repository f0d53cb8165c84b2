"""Trains the embedded default model of Restart Studio and exports it in diffusers-ONNX layout.

One command runs every stage (each resumes from training/.work/ if interrupted):
    /usr/bin/python3 training/train.py
Stages: data, vae, latents, unet, decoder, evaluator, export, samples.  `--stage NAME` runs one stage only.
"""
import argparse
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
WORK = os.path.join(HERE, ".work")
SHARED = os.path.join(ROOT, "..", "shared", "reference")
if not os.path.isdir(SHARED):
    SHARED = os.path.join(ROOT, "shared", "reference")
OUT = os.path.join(ROOT, "models", "restart-shapes-64")

torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", "2")))

CFG = {
    "n_train": 40000, "data_seed": 1,
    "vae": {"block_out_channels": [16, 32, 64, 64], "layers_per_block": 1, "norm_num_groups": 8,
            "latent_channels": 4, "steps": 2100, "batch": 16, "lr": 1e-3, "kl": 5e-4,
            "ft_steps": 1500, "ft_lr": 3e-4, "ft_batch": 32},
    "text": {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 3, "num_attention_heads": 4,
             "max_position_embeddings": 77},
    "unet": {"block_out_channels": [48, 96], "layers_per_block": 1, "norm_num_groups": 16, "attention_head_dim": 4,
             "cross_attention_dim": 64, "in_channels": 4, "out_channels": 4,
             "steps": 2400, "batch": 64, "batch_from_600": 32, "lr": 4e-4, "warmup": 100, "ema": 0.999, "p_uncond": 0.1, "min_snr": 5.0},
    "eval": {"n_train": 30000, "seed": 2, "n_test": 2000, "test_seed": 3, "n_ref": 5000, "ref_seed": 4,
             "steps": 3000, "batch": 64, "lr": 1.5e-3, "feat": 64},
}


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def save_atomic(obj, path):
    torch.save(obj, path + ".tmp")
    os.replace(path + ".tmp", path)


def to_tensor(imgs):
    return torch.from_numpy(imgs).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def to_uint8(x):
    return ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


def alphas_cumprod():
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, 0).float()


# ------------------------------------------------------------------ data
def stage_data():
    p = os.path.join(WORK, "train.npz")
    if os.path.exists(p):
        return
    t = time.time()
    imgs, labels, attrs = D.make_dataset(CFG["n_train"], CFG["data_seed"])
    np.savez(p + ".tmp.npz", imgs=imgs, **labels)
    os.replace(p + ".tmp.npz", p)
    with open(os.path.join(WORK, "train_attrs.json"), "w") as f:
        json.dump(attrs, f)
    log(f"data: {len(imgs)} images in {time.time() - t:.1f}s")


def load_train():
    z = np.load(os.path.join(WORK, "train.npz"))
    with open(os.path.join(WORK, "train_attrs.json")) as f:
        attrs = json.load(f)
    return z["imgs"], attrs


# ------------------------------------------------------------------ VAE
def stage_vae():
    c = CFG["vae"]
    ck = os.path.join(WORK, "vae.pt")
    torch.manual_seed(10)
    vae = M.VAE(c)
    opt = torch.optim.Adam(vae.parameters(), lr=c["lr"])
    step = 0
    if os.path.exists(ck):
        s = torch.load(ck)
        vae.load_state_dict(s["model"]); opt.load_state_dict(s["opt"]); step = s["step"]
    if step >= c["steps"]:
        return
    imgs, _ = load_train()
    rng = np.random.default_rng(100 + step)
    t0 = time.time()
    while step < c["steps"]:
        lr = c["lr"] * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / c["steps"])))
        for g in opt.param_groups:
            g["lr"] = lr
        x = to_tensor(imgs[rng.integers(len(imgs), size=c["batch"])])
        mean, logvar = vae.encode(x)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        r = vae.decoder(z)
        rec = (r - x).abs().mean() + ((r - x) ** 2).mean()
        kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).mean()
        loss = rec + c["kl"] * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            log(f"vae step {step} rec {rec.item():.4f} kl {kl.item():.3f} ({(time.time() - t0) / 50:.2f}s/step)")
            t0 = time.time()
        if step % 200 == 0 or step == c["steps"]:
            save_atomic({"model": vae.state_dict(), "opt": opt.state_dict(), "step": step}, ck)
    vae.eval()
    with torch.no_grad():
        x = to_tensor(imgs[:16])
        r = vae.decoder(vae.encode(x)[0])
    write_png(os.path.join(WORK, "vae_recon.png"), grid(list(to_uint8(x)) + list(to_uint8(r)), 16, 3))


def load_vae():
    vae = M.VAE(CFG["vae"])
    vae.load_state_dict(torch.load(os.path.join(WORK, "vae.pt"))["model"])
    ft = os.path.join(WORK, "vae_decoder_ft.pt")
    if os.path.exists(ft):
        vae.decoder.load_state_dict(torch.load(ft)["decoder"])
    return vae.eval()


def stage_decoder():
    """Fine-tunes the VAE decoder alone (the encoder, hence the UNet's latents, stay as they are)."""
    c = CFG["vae"]
    ck = os.path.join(WORK, "vae_decoder_ft.pt")
    vae = load_vae()
    opt = torch.optim.Adam(vae.decoder.parameters(), lr=c["ft_lr"])
    step = 0
    if os.path.exists(ck):
        s = torch.load(ck)
        opt.load_state_dict(s["opt"]); step = s["step"]
    if step >= c["ft_steps"]:
        return
    imgs, _ = load_train()
    rng = np.random.default_rng(500 + step)
    vae.decoder.train()
    t0 = time.time()
    while step < c["ft_steps"]:
        for g in opt.param_groups:
            g["lr"] = c["ft_lr"] * 0.5 * (1 + math.cos(math.pi * step / c["ft_steps"]))
        x = to_tensor(imgs[rng.integers(len(imgs), size=c["ft_batch"])])
        with torch.no_grad():
            mean, logvar = vae.encode(x)
            z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        r = vae.decoder(z)
        # shape pixels (those away from the image's median colour, i.e. its background) weigh 5x
        med = x.flatten(2).median(dim=2).values[:, :, None, None]
        w = 1.0 + 4.0 * ((x - med).abs().sum(dim=1, keepdim=True) > 0.15).float()
        rec = (w * ((r - x).abs() + (r - x) ** 2)).mean() / w.mean()
        opt.zero_grad()
        rec.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            log(f"decoder step {step} rec {rec.item():.4f} ({(time.time() - t0) / 50:.2f}s/step)")
            t0 = time.time()
        if step % 200 == 0 or step == c["ft_steps"]:
            save_atomic({"decoder": vae.decoder.state_dict(), "opt": opt.state_dict(), "step": step}, ck)
    vae.eval()
    with torch.no_grad():
        x = to_tensor(imgs[:16])
        r = vae.decoder(vae.encode(x)[0])
    write_png(os.path.join(WORK, "vae_recon_ft.png"), grid(list(to_uint8(x)) + list(to_uint8(r)), 16, 3))


# ------------------------------------------------------------------ latents
def stage_latents():
    p = os.path.join(WORK, "latents.pt")
    if os.path.exists(p):
        return
    imgs, _ = load_train()
    vae = load_vae()
    means, logvars = [], []
    t = time.time()
    with torch.no_grad():
        for i in range(0, len(imgs), 500):
            m, lv = vae.encode(to_tensor(imgs[i:i + 500]))
            means.append(m); logvars.append(lv)
    mean, logvar = torch.cat(means), torch.cat(logvars)
    std = mean.std().item()
    scale = 1.0 / std
    rec = []
    with torch.no_grad():
        for i in range(0, 2000, 500):
            rec.append((vae.decoder(mean[i:i + 500]) - to_tensor(imgs[i:i + 500])).abs().mean().item())
    info = {"scaling_factor": round(scale, 5), "latent_std": std, "latent_mean": mean.mean().item(),
            "posterior_std_mean": torch.exp(0.5 * logvar).mean().item(),
            "recon_l1_first2000": float(np.mean(rec)), "encode_seconds": time.time() - t}
    log("latents:", info)
    torch.save({"mean": mean, "logvar": logvar, **info}, p)


# ------------------------------------------------------------------ captions / tokens
class Captioner:
    def __init__(self):
        self.tok = ClipTokenizer(os.path.join(SHARED, "sd15-tokenizer"))
        self.cache = {}
        self.empty = self.tok.encode77("")

    def ids(self, text):
        v = self.cache.get(text)
        if v is None:
            v = self.cache[text] = self.tok.encode77(text)
        return v


def build_remap(cap):
    """Known caption token ids -> own rows (1..n); everything else -> row 0 (unknown)."""
    p = os.path.join(WORK, "remap.json")
    if os.path.exists(p):
        with open(p) as f:
            known = json.load(f)
    else:
        _, attrs = load_train()
        rng = np.random.default_rng(7)
        ids = set(cap.empty)
        for i in range(30000):
            ids.update(cap.ids(D.caption(attrs[i % len(attrs)], rng)))
        known = sorted(ids)
        with open(p, "w") as f:
            json.dump(known, f)
    remap = np.zeros(49408, np.int64)
    for r, i in enumerate(known):
        remap[i] = r + 1
    return remap, known


# ------------------------------------------------------------------ UNet + text encoder
def make_unet_te(remap):
    torch.manual_seed(20)
    te = M.TextEncoder(CFG["text"], remap)
    unet = M.UNet(CFG["unet"])
    return unet, te


def stage_unet():
    c = CFG["unet"]
    ck = os.path.join(WORK, "unet.pt")
    cap = Captioner()
    remap, known = build_remap(cap)
    unet, te = make_unet_te(remap)
    params = list(unet.parameters()) + list(te.parameters())
    ema_u, ema_t = M.UNet(c), M.TextEncoder(CFG["text"], remap)
    ema_u.load_state_dict(unet.state_dict()); ema_t.load_state_dict(te.state_dict())
    opt = torch.optim.AdamW(params, lr=c["lr"], weight_decay=0.01)
    step, seconds = 0, 0.0
    if os.path.exists(ck):
        s = torch.load(ck)
        unet.load_state_dict(s["unet"]); te.load_state_dict(s["te"])
        ema_u.load_state_dict(s["ema_unet"]); ema_t.load_state_dict(s["ema_te"])
        opt.load_state_dict(s["opt"]); step = s["step"]; seconds = s.get("seconds", 0.0)
        log(f"unet: resumed at step {step}")
    if step >= c["steps"]:
        return
    lat = torch.load(os.path.join(WORK, "latents.pt"))
    scale = lat["scaling_factor"]
    _, attrs = load_train()
    ac = alphas_cumprod()
    snr = ac / (1 - ac)
    w_t = torch.clamp(snr, max=c["min_snr"]) / snr
    rng = np.random.default_rng(1000 + step)
    gen = torch.Generator().manual_seed(2000 + step)
    ema_params = list(ema_u.parameters()) + list(ema_t.parameters())
    t0 = time.time(); tl = 0.0
    print(f"unet params {sum(p.numel() for p in unet.parameters())}, text encoder params {sum(p.numel() for p in te.parameters())}")
    while step < c["steps"]:
        ts = time.time()
        for g in opt.param_groups:
            g["lr"] = c["lr"] * min(1.0, (step + 1) / c["warmup"])
        bs = c["batch"] if step < 600 else c["batch_from_600"]  # smaller batches later: more updates per CPU second
        idx = rng.integers(len(attrs), size=bs)
        ids = [cap.empty if rng.random() < c["p_uncond"] else cap.ids(D.caption(attrs[i], rng)) for i in idx]
        ids = torch.tensor(ids, dtype=torch.int32)
        it = torch.from_numpy(idx)
        x0 = (lat["mean"][it] + torch.exp(0.5 * lat["logvar"][it]) * torch.randn(lat["mean"][it].shape, generator=gen)) * scale
        t = torch.randint(0, 1000, (bs,), generator=gen)
        eps = torch.randn(x0.shape, generator=gen)
        a = ac[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        ctx, _ = te(ids)
        pred = unet(xt, t.float(), ctx)
        loss = (((pred - eps) ** 2).mean(dim=(1, 2, 3)) * w_t[t]).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        d = min(c["ema"], (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, p in zip(ema_params, params):
                pe.mul_(d).add_(p.detach(), alpha=1 - d)
        seconds += time.time() - ts
        tl += loss.item()
        if step % 25 == 0:
            log(f"unet step {step} loss {tl / 25:.4f} ({(time.time() - t0) / 25:.2f}s/step, {seconds / 60:.1f} min)")
            t0 = time.time(); tl = 0.0
        if step % 100 == 0 or step == c["steps"]:
            save_atomic({"unet": unet.state_dict(), "te": te.state_dict(), "ema_unet": ema_u.state_dict(),
                         "ema_te": ema_t.state_dict(), "opt": opt.state_dict(), "step": step, "seconds": seconds}, ck)


def load_unet_te():
    cap = Captioner()
    remap, _ = build_remap(cap)
    unet, te = make_unet_te(remap)
    s = torch.load(os.path.join(WORK, "unet.pt"))
    unet.load_state_dict(s["ema_unet"]); te.load_state_dict(s["ema_te"])
    return unet.eval(), te.eval(), cap, s


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
        s = torch.load(ck)
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


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def stage_export():
    lat = torch.load(os.path.join(WORK, "latents.pt"))
    scale = lat["scaling_factor"]
    vae = load_vae()
    unet, te, cap, s = load_unet_te()
    os.makedirs(OUT, exist_ok=True)
    b = 2
    ids = torch.tensor([cap.ids("a red circle on a blue background")] * b, dtype=torch.int32)
    export_onnx(TEWrap(te), (ids,), os.path.join(OUT, "text_encoder", "model.onnx"), ["input_ids"],
                ["last_hidden_state", "pooler_output"],
                {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}, "pooler_output": {0: "batch"}})
    ctx = te(ids)[0].detach()
    export_onnx(unet, (torch.randn(b, 4, 8, 8), torch.tensor([500.0, 500.0]), ctx),
                os.path.join(OUT, "unet", "model.onnx"), ["sample", "timestep", "encoder_hidden_states"], ["out_sample"],
                {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "timestep_batch"},
                 "encoder_hidden_states": {0: "batch", 1: "sequence"}, "out_sample": {0: "batch", 2: "height", 3: "width"}})
    export_onnx(VaeDecWrap(vae), (torch.randn(b, 4, 8, 8),), os.path.join(OUT, "vae_decoder", "model.onnx"),
                ["latent_sample"], ["sample"],
                {"latent_sample": {0: "batch", 2: "height", 3: "width"}, "sample": {0: "batch", 2: "height", 3: "width"}})
    export_onnx(VaeEncWrap(vae), (torch.randn(b, 3, 64, 64),), os.path.join(OUT, "vae_encoder", "model.onnx"),
                ["sample"], ["latent_sample"],
                {"sample": {0: "batch", 2: "height", 3: "width"}, "latent_sample": {0: "batch", 2: "height", 3: "width"}})
    # tokenizer and scheduler: the SD 1.5 files as they are
    os.makedirs(os.path.join(OUT, "tokenizer"), exist_ok=True)
    for f in ("merges.txt", "special_tokens_map.json", "tokenizer_config.json", "vocab.json"):
        shutil.copyfile(os.path.join(SHARED, "sd15-tokenizer", f), os.path.join(OUT, "tokenizer", f))
    os.makedirs(os.path.join(OUT, "scheduler"), exist_ok=True)
    shutil.copyfile(os.path.join(SHARED, "sd15-configs", "scheduler_config.json"),
                    os.path.join(OUT, "scheduler", "scheduler_config.json"))
    with open(os.path.join(SHARED, "sd15-configs", "model_index.json")) as f:
        mi = json.load(f)
    mi["_class_name"] = "OnnxStableDiffusionPipeline"
    for k, v in (("text_encoder", ["diffusers", "OnnxRuntimeModel"]), ("unet", ["diffusers", "OnnxRuntimeModel"]),
                 ("vae_decoder", ["diffusers", "OnnxRuntimeModel"]), ("vae_encoder", ["diffusers", "OnnxRuntimeModel"])):
        mi[k] = v
    mi.pop("vae", None)
    mi["requires_safety_checker"] = False
    write_json(os.path.join(OUT, "model_index.json"), mi)
    uc = CFG["unet"]
    n = len(uc["block_out_channels"])
    write_json(os.path.join(OUT, "unet", "config.json"), {
        "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.10.2", "_name_or_path": "restart-studio/restart-shapes-64",
        "act_fn": "silu", "attention_head_dim": uc["attention_head_dim"], "block_out_channels": uc["block_out_channels"],
        "center_input_sample": False, "cross_attention_dim": uc["cross_attention_dim"],
        "down_block_types": ["CrossAttnDownBlock2D"] * n, "downsample_padding": 1, "dual_cross_attention": False,
        "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": uc["in_channels"], "layers_per_block": uc["layers_per_block"],
        "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": uc["norm_num_groups"], "num_class_embeds": None,
        "only_cross_attention": False, "out_channels": uc["out_channels"], "sample_size": 8,
        "up_block_types": ["CrossAttnUpBlock2D"] * n, "upcast_attention": False, "use_linear_projection": False})
    vc = CFG["vae"]
    nv = len(vc["block_out_channels"])
    vcfg = {"_class_name": "AutoencoderKL", "_diffusers_version": "0.10.2", "_name_or_path": "restart-studio/restart-shapes-64",
            "act_fn": "silu", "block_out_channels": vc["block_out_channels"], "down_block_types": ["DownEncoderBlock2D"] * nv,
            "in_channels": 3, "latent_channels": vc["latent_channels"], "layers_per_block": vc["layers_per_block"],
            "norm_num_groups": vc["norm_num_groups"], "out_channels": 3, "sample_size": 64, "scaling_factor": scale,
            "up_block_types": ["UpDecoderBlock2D"] * nv}
    write_json(os.path.join(OUT, "vae_decoder", "config.json"), vcfg)
    write_json(os.path.join(OUT, "vae_encoder", "config.json"), vcfg)
    tc = CFG["text"]
    write_json(os.path.join(OUT, "text_encoder", "config.json"), {
        "_name_or_path": "restart-studio/restart-shapes-64", "architectures": ["CLIPTextModel"], "attention_dropout": 0.0,
        "bos_token_id": 49406, "dropout": 0.0, "eos_token_id": 49407, "hidden_act": "quick_gelu",
        "hidden_size": tc["hidden_size"], "initializer_factor": 1.0, "initializer_range": 0.02,
        "intermediate_size": tc["intermediate_size"], "layer_norm_eps": 1e-05,
        "max_position_embeddings": tc["max_position_embeddings"], "model_type": "clip_text_model",
        "num_attention_heads": tc["num_attention_heads"], "num_hidden_layers": tc["num_hidden_layers"], "pad_token_id": 49407,
        "projection_dim": tc["hidden_size"], "torch_dtype": "float32", "transformers_version": "4.19.2", "vocab_size": 49408})
    train_info = {"unet_steps": s["step"], "unet_batch": f"{uc['batch']} (steps 1-600), then {uc['batch_from_600']}", "unet_train_minutes": round(s["seconds"] / 60, 1),
                  "unet_parameters": sum(p.numel() for p in unet.parameters()),
                  "text_encoder_parameters": sum(p.numel() for p in te.parameters()),
                  "vae_parameters": sum(p.numel() for p in vae.parameters()),
                  "known_token_ids": len(build_remap(cap)[1]), "scaling_factor": scale}
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
    net.load_state_dict(torch.load(ck)["model"])
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
    lat = torch.load(os.path.join(WORK, "latents.pt"))
    scale = lat["scaling_factor"]
    vae = load_vae()
    unet, te, cap, s = load_unet_te()
    ac = alphas_cumprod()
    g = torch.Generator().manual_seed(0)
    per = 6
    ids = torch.tensor([cap.ids(p) for p in PROMPTS for _ in range(per)], dtype=torch.int32)
    n = len(ids)
    cond = te(ids)[0]
    unc = te(torch.tensor([cap.empty] * n, dtype=torch.int32))[0]
    ts = torch.linspace(999, 0, steps).round().long()
    x = torch.randn(n, 4, 8, 8, generator=g)
    for i, t in enumerate(ts):  # DDIM (eta 0)
        a = ac[t]
        e_u = unet(x, t.float().expand(n), unc)
        e_c = unet(x, t.float().expand(n), cond)
        e = e_u + guidance * (e_c - e_u)
        x0 = (x - (1 - a).sqrt() * e) / a.sqrt()
        ap = ac[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0)
        x = ap.sqrt() * x0 + (1 - ap).sqrt() * e
    img = vae.decoder(x / scale).clamp(-1, 1)
    path = os.path.join(WORK, f"samples_step{s['step']}.png")
    write_png(path, grid(list(to_uint8(img)), per, 2))
    log("samples written to", path)


@torch.no_grad()
def stage_vae_check():
    """Evaluator accuracy on held-out real images after a VAE round trip (encode, decode): the VAE's ceiling."""
    net = M.Evaluator(EVAL_HEADS, CFG["eval"]["feat"])
    net.load_state_dict(torch.load(os.path.join(WORK, "evaluator.pt"))["model"])
    net.eval()
    vae = load_vae()
    imgs, labels, _ = D.make_dataset(500, CFG["eval"]["test_seed"])
    y = eval_labels(labels)
    x = to_tensor(imgs)
    r = vae.decoder(vae.encode(x)[0]).clamp(-1, 1)
    acc = {k: float((o.argmax(1).numpy() == y[k]).mean()) for o, k in zip(net(r), EVAL_HEADS)}
    log("evaluator accuracy on VAE round trips of 500 held-out images:", acc, "L1", float((r - x).abs().mean()))


STAGES = {"data": stage_data, "vae": stage_vae, "latents": stage_latents, "unet": stage_unet, "decoder": stage_decoder,
          "evaluator": stage_evaluator, "export": stage_export, "samples": stage_samples,
          "vae_check": stage_vae_check}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", choices=list(STAGES))
    ap.add_argument("--unet-steps", type=int, help="override the number of UNet steps (resumes and continues)")
    a = ap.parse_args()
    if a.unet_steps:
        CFG["unet"]["steps"] = a.unet_steps
    os.makedirs(WORK, exist_ok=True)
    t = time.time()
    for name, fn in STAGES.items():
        if a.stage in (None, name):
            ts = time.time()
            fn()
            log(f"stage {name} done in {time.time() - ts:.0f}s")
    log(f"total {time.time() - t:.0f}s")
