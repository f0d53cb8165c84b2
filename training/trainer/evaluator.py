"""The evaluator (a CNN classifier of the four attributes, trained on real procedural images only) and the checks
that use it: stage evaluator, stage vae_check (accuracy after a VAE round trip) and stage real_sample."""
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import models as M
import shapes_data as D
from trainer.common import log, save_atomic, tload, to_tensor, write_json
from trainer.config import DEFAULT_WORK
from trainer.vae import load_vae

HEADS = {"background": len(D.COLOR_NAMES), "shape": len(D.SHAPES), "color": len(D.COLOR_NAMES), "count": 2}


def head_labels(labels):
    """shapes_data's labels under the evaluator's head names (count 1, 2 -> class 0, 1)."""
    return {"background": labels["bg"], "shape": labels["shape"], "color": labels["fg"], "count": labels["count"] - 1}


def box_blur(x):
    return F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)


def accuracy(outputs, y):
    return {k: float((o.argmax(1).cpu().numpy() == y[k]).mean()) for o, k in zip(outputs, HEADS)}


def train_evaluator(c, net, opt, step, ck):
    imgs, labels, _ = D.make_dataset(c["n_train"], c["seed"])
    y = {k: torch.from_numpy(v) for k, v in head_labels(labels).items()}
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
            x[sel] = box_blur(x[sel])
        x = x + torch.randn_like(x) * float(rng.uniform(0, 0.04))
        out = net(x)
        loss = sum(F.cross_entropy(o, y[k][idx]) for o, k in zip(out, HEADS))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            log(f"evaluator step {step} loss {loss.item():.4f} ({(time.time() - t0) / 50:.2f}s/step)")
            t0 = time.time()
        if step % 250 == 0 or step == c["steps"]:
            save_atomic({"model": net.state_dict(), "opt": opt.state_dict(), "step": step}, ck)


@torch.no_grad()
def measure_evaluator(run, c, net):
    """Held-out accuracy (real images, and the same images box-blurred) and the reference feature statistics."""
    net.eval()
    imgs, labels, _ = D.make_dataset(c["n_test"], c["test_seed"])
    y = head_labels(labels)
    x = to_tensor(imgs)
    res = {name: accuracy(net(xx), y) for name, xx in (("real", x), ("real_blurred", box_blur(x)))}
    ref, _, _ = D.make_dataset(c["n_ref"], c["ref_seed"])
    f = net(to_tensor(ref))[-1].double().numpy()
    log("evaluator accuracy", res)
    with open(run.file("evaluator_metrics.json"), "w") as fo:
        json.dump({"heldout_n": c["n_test"], "accuracy": res}, fo, indent=1)
    np.savez(run.file("ref_stats.npz"), mean=f.mean(0), cov=np.cov(f, rowvar=False), n=len(f))


def stage_evaluator(run):
    c = run.cfg["eval"]
    ck = run.file("evaluator.pt")
    torch.manual_seed(30)
    net = M.Evaluator(HEADS, c["feat"])
    opt = torch.optim.Adam(net.parameters(), lr=c["lr"])
    step = 0
    if os.path.exists(ck):
        s = tload(ck)
        net.load_state_dict(s["model"])
        opt.load_state_dict(s["opt"])
        step = s["step"]
    if step < c["steps"]:
        train_evaluator(c, net, opt, step, ck)
    measure_evaluator(run, c, net)


def find_evaluator_ckpt(run):
    # a GPU work dir has no evaluator of its own: $EVALUATOR_PT, else the CPU-trained one in training/.work
    for p in (run.file("evaluator.pt"), os.environ.get("EVALUATOR_PT") or "", os.path.join(DEFAULT_WORK, "evaluator.pt")):
        if p and os.path.exists(p):
            return p
    return None


@torch.no_grad()
def stage_vae_check(run):
    """Evaluator accuracy on held-out real images after a VAE round trip (encode, decode): the VAE's ceiling.
    Writes vae_check.json into the work dir."""
    p = find_evaluator_ckpt(run)
    if p is None:
        log("vae_check: no evaluator.pt (work dir, $EVALUATOR_PT or training/.work): skipped")
        return
    net = M.Evaluator(HEADS, run.cfg["eval"]["feat"])
    net.load_state_dict(tload(p)["model"])
    net = net.to(run.device).eval()
    vae = load_vae(run)
    imgs, labels, _ = D.make_dataset(500, run.cfg["eval"]["test_seed"])
    x = to_tensor(imgs).to(run.device)
    r = vae.decoder(vae.encode(x)[0]).clamp(-1, 1)
    acc = accuracy(net(r), head_labels(labels))
    l1 = float((r - x).abs().mean())
    log("evaluator accuracy on VAE round trips of 500 held-out images:", acc, "L1", l1)
    write_json(run.file("vae_check.json"), {"n": 500, "accuracy": acc, "l1": l1, "evaluator": p})


def stage_real_sample(run, n=672, seed=5):
    """Fresh real images (never used in training) for the real-vs-real Frechet distance noise floor:
    uint8 [n, 64, 64, 3] in WORK/real-sample.rgb, read by `npm run model-quality -- --real FILE`."""
    imgs, _, _ = D.make_dataset(n, seed)
    path = run.file("real-sample.rgb")
    with open(path + ".tmp", "wb") as f:
        f.write(np.ascontiguousarray(imgs).tobytes())
    os.replace(path + ".tmp", path)
    log(f"real sample: {n} images (seed {seed}) -> {path}")
