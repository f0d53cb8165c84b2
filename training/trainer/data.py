"""Stage data (procedural images with pre-tokenized captions) and what later stages read from it: the images, the
caption pool and the map from caption token ids to the text encoder's rows."""
import json
import os
import time

import numpy as np
import torch

import shapes_data as D
from clip_tokenizer import tokenizer_for
from pngio import write_png, grid
from trainer.common import log

CHUNK = 500  # images per worker job


def image_captions(tokenizer, attrs, seed, i, k, out):
    """Image i's k tokenized captions into out [k, 77]: their own seed (seed, i, 1), so the pool can be remade alone."""
    crng = np.random.default_rng([seed, i, 1])
    for j in range(k):
        out[j] = tokenizer.encode77(D.caption(attrs, crng))


def _render_chunk(job):
    """Images lo..hi-1: image i comes from its own seed (data_seed, i), so the set is the same for any worker count."""
    tokenizer_dir, seed, lo, hi, k = job
    tokenizer = tokenizer_for(tokenizer_dir)
    imgs = np.zeros((hi - lo, D.SIZE, D.SIZE, 3), np.uint8)
    caps = np.zeros((hi - lo, k, 77), np.int32)
    attrs = []
    for i in range(lo, hi):
        rng = np.random.default_rng([seed, i])
        a = D.sample_attributes(rng)
        imgs[i - lo] = D.render(a, rng)
        image_captions(tokenizer, a, seed, i, k, caps[i - lo])
        attrs.append(a)
    return imgs, caps, attrs


def _render_all(jobs):
    workers = max(1, min(len(jobs), int(os.environ.get("DATA_WORKERS", os.cpu_count() or 1))))
    if workers > 1:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(workers) as pool:
            return pool.map(_render_chunk, jobs, chunksize=1), workers
    return [_render_chunk(j) for j in jobs], workers


def stage_data(run):
    p = run.file("train.npz")
    if os.path.exists(p):
        return
    t = time.time()
    cfg = run.cfg
    n, k = cfg["n_train"], cfg["captions_per_image"]
    jobs = [(run.paths.tokenizer, cfg["data_seed"], lo, min(n, lo + CHUNK), k) for lo in range(0, n, CHUNK)]
    parts, workers = _render_all(jobs)
    imgs = np.concatenate([q[0] for q in parts])
    caps = np.concatenate([q[1] for q in parts])
    attrs = [a for q in parts for a in q[2]]
    labels = {kk: np.array([a[kk] for a in attrs], np.int64) for kk in ("bg", "fg", "shape", "count")}
    np.save(run.file("captions.npy.tmp.npy"), caps)
    os.replace(run.file("captions.npy.tmp.npy"), run.file("captions.npy"))
    with open(run.file("train_attrs.json"), "w") as f:
        json.dump(attrs, f)
    np.savez(p + ".tmp.npz", imgs=imgs, **labels)
    os.replace(p + ".tmp.npz", p)
    write_png(run.file("data_grid.png"), grid(list(imgs[:32]), 16, 2))
    log(f"data: {len(imgs)} images, {k} captions each, {workers} workers, in {time.time() - t:.1f}s")


def load_train(run):
    z = np.load(run.file("train.npz"))
    with open(run.file("train_attrs.json")) as f:
        attrs = json.load(f)
    return z["imgs"], attrs


def load_images_on_device(run):
    """The training images as a uint8 NHWC tensor on the run's device (kept as bytes: 1.2 GB for 100k images)."""
    return torch.from_numpy(np.load(run.file("train.npz"))["imgs"]).to(run.device)


def caption_pool(run):
    """int32 [n_images, k, 77]: k pre-tokenized captions per training image (written by stage data; made here for
    older work dirs that lack it)."""
    p = run.file("captions.npy")
    if not os.path.exists(p):
        _, attrs = load_train(run)
        k, seed = run.cfg["captions_per_image"], run.cfg["data_seed"]
        tokenizer = tokenizer_for(run.paths.tokenizer)
        t = time.time()
        caps = np.zeros((len(attrs), k, 77), np.int32)
        for i, a in enumerate(attrs):
            image_captions(tokenizer, a, seed, i, k, caps[i])
        np.save(p + ".tmp.npy", caps)
        os.replace(p + ".tmp.npy", p)
        log(f"caption pool {caps.shape} in {time.time() - t:.1f}s")
    return np.load(p)


def known_token_ids(run, pool=None):
    """The CLIP ids that occur in training captions (and the empty caption), sorted: written once to remap.json, so
    the text encoder's rows stay the same when the pool is remade."""
    p = run.file("remap.json")
    if os.path.exists(p):
        with open(p) as f:
            return json.load(f)
    if pool is None:
        pool = caption_pool(run)
    empty = tokenizer_for(run.paths.tokenizer).encode77("")
    known = sorted(set(np.unique(pool).tolist()) | set(empty))
    with open(p, "w") as f:
        json.dump(known, f)
    return known


def remap_from_known(known):
    """Known caption token ids -> own rows (1..n); everything else -> row 0 (unknown)."""
    remap = np.zeros(49408, np.int64)
    for r, i in enumerate(known):
        remap[i] = r + 1
    return remap
