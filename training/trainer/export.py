"""Stage export: writes the model folder in diffusers-ONNX layout (text_encoder, unet, vae_decoder, vae_encoder,
tokenizer, scheduler, configs, training_info.json) and the evaluator folder."""
import json
import os

import numpy as np
import torch

import models as M
import shapes_data as D
from clip_tokenizer import tokenizer_for
from trainer.common import copy_file, latent_hw, log, tload, write_json
from trainer.config import MODEL_REPO_DIR
from trainer.data import known_token_ids
from trainer.diffusers_configs import model_index, text_encoder_config, unet_config, vae_config
from trainer.evaluator import HEADS, head_labels
from trainer.unet import load_unet_te
from trainer.vae import load_vae

BATCH_AXES = {0: "batch", 2: "height", 3: "width"}


def export_onnx(model, args, path, inputs, outputs, axes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(model, args, path, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                      opset_version=17, do_constant_folding=True)


class TEWrap(torch.nn.Module):
    def __init__(self, te):
        super().__init__()
        self.te = te

    def forward(self, input_ids):
        return self.te(input_ids)


class VaeDecWrap(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latent_sample):
        return self.vae.decoder(latent_sample).clamp(-1.0, 1.0)


class VaeEncWrap(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, sample):
        return self.vae.encode(sample)[0]  # the posterior mean


def export_graphs(out, te, unet, vae, ids, hw, b=2):
    export_onnx(TEWrap(te), (ids,), os.path.join(out, "text_encoder", "model.onnx"), ["input_ids"],
                ["last_hidden_state", "pooler_output"],
                {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}, "pooler_output": {0: "batch"}})
    ctx = te(ids)[0].detach()
    export_onnx(unet, (torch.randn(b, 4, hw, hw), torch.tensor([500.0, 500.0]), ctx),
                os.path.join(out, "unet", "model.onnx"), ["sample", "timestep", "encoder_hidden_states"], ["out_sample"],
                {"sample": BATCH_AXES, "timestep": {0: "timestep_batch"},
                 "encoder_hidden_states": {0: "batch", 1: "sequence"}, "out_sample": BATCH_AXES})
    export_onnx(VaeDecWrap(vae), (torch.randn(b, 4, hw, hw),), os.path.join(out, "vae_decoder", "model.onnx"),
                ["latent_sample"], ["sample"], {"latent_sample": BATCH_AXES, "sample": BATCH_AXES})
    export_onnx(VaeEncWrap(vae), (torch.randn(b, 3, 64, 64),), os.path.join(out, "vae_encoder", "model.onnx"),
                ["sample"], ["latent_sample"], {"sample": BATCH_AXES, "latent_sample": BATCH_AXES})


def copy_tokenizer_and_scheduler(run, out):
    """The SD 1.5 tokenizer and scheduler files as they are, and model_index.json adapted to the ONNX pipeline."""
    os.makedirs(os.path.join(out, "tokenizer"), exist_ok=True)
    for f in ("merges.txt", "special_tokens_map.json", "tokenizer_config.json", "vocab.json"):
        copy_file(os.path.join(run.paths.tokenizer, f), os.path.join(out, "tokenizer", f))
    os.makedirs(os.path.join(out, "scheduler"), exist_ok=True)
    confs = os.path.join(run.paths.shared, "sd15-configs")
    if os.path.exists(os.path.join(confs, "model_index.json")):
        sched, mindex = os.path.join(confs, "scheduler_config.json"), os.path.join(confs, "model_index.json")
    else:  # no ../shared: the committed model folder has the same files (model_index.json already adapted)
        sched, mindex = (os.path.join(MODEL_REPO_DIR, "scheduler", "scheduler_config.json"),
                         os.path.join(MODEL_REPO_DIR, "model_index.json"))
    copy_file(sched, os.path.join(out, "scheduler", "scheduler_config.json"))
    with open(mindex) as f:
        write_json(os.path.join(out, "model_index.json"), model_index(json.load(f)))


def training_info(run, s, unet, te, vae, scale):
    """training_info.json: steps, time and parameter counts of the exported weights."""
    uc = s.get("cfg", run.cfg["unet"])
    ub = uc["batch"] if uc["batch"] == uc["batch_from_600"] else f"{uc['batch']} (steps 1-600), then {uc['batch_from_600']}"
    info = {"unet_steps": s["step"], "unet_batch": ub, "unet_train_minutes": round(s["seconds"] / 60, 1),
            "unet_parameters": sum(p.numel() for p in unet.parameters()),
            "text_encoder_parameters": sum(p.numel() for p in te.parameters()),
            "vae_parameters": sum(p.numel() for p in vae.parameters()),
            "known_token_ids": len(known_token_ids(run)), "scaling_factor": scale}
    info["vae_steps"] = tload(run.file("vae.pt"))["step"]
    if os.path.exists(run.file("vae_decoder_ft.pt")):
        info["vae_decoder_finetune_steps"] = tload(run.file("vae_decoder_ft.pt"))["step"]
    if os.path.exists(run.file("results.json")):  # imported from a GPU run (--import-results)
        with open(run.file("results.json")) as f:
            r = json.load(f)
        info["trained_on"] = r.get("device")
        info["stage_seconds"] = r.get("stage_seconds")
    return info


def stage_export(run):
    # export on the CPU; the run stays there, so later stages of the same command run on the CPU too
    run.device = torch.device("cpu")
    out = run.paths.export
    scale = tload(run.file("latents.pt"))["scaling_factor"]
    vae = load_vae(run)
    unet, te, s = load_unet_te(run)
    os.makedirs(out, exist_ok=True)
    log("exporting to", out)
    hw = latent_hw(vae.cfg)
    ids = torch.tensor([tokenizer_for(run.paths.tokenizer).encode77("a red circle on a blue background")] * 2, dtype=torch.int32)
    export_graphs(out, te, unet, vae, ids, hw)
    copy_tokenizer_and_scheduler(run, out)
    write_json(os.path.join(out, "unet", "config.json"), unet_config(s.get("cfg", run.cfg["unet"]), hw))
    vcfg = vae_config(vae.cfg, scale)
    write_json(os.path.join(out, "vae_decoder", "config.json"), vcfg)
    write_json(os.path.join(out, "vae_encoder", "config.json"), vcfg)
    write_json(os.path.join(out, "text_encoder", "config.json"), text_encoder_config(s.get("text_cfg", run.cfg["text"])))
    info = training_info(run, s, unet, te, vae, scale)
    write_json(os.path.join(out, "training_info.json"), info)
    log("exported", info)
    export_evaluator(run)


def export_evaluator(run):
    if not os.path.exists(run.file("evaluator_metrics.json")):
        log("evaluator not trained yet: skipped")
        return
    c = run.cfg["eval"]
    net = M.Evaluator(HEADS, c["feat"])
    net.load_state_dict(tload(run.file("evaluator.pt"))["model"])
    net.eval()
    ed = os.path.join(run.paths.export, "evaluator")
    names = list(HEADS) + ["features"]
    export_onnx(net, (torch.randn(2, 3, 64, 64),), os.path.join(ed, "model.onnx"), ["image"], names,
                {"image": {0: "batch"}, **{k: {0: "batch"} for k in names}})
    with open(run.file("evaluator_metrics.json")) as f:
        metrics = json.load(f)
    st = np.load(run.file("ref_stats.npz"))
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
    write_heldout(ed, c["test_seed"])
    write_json(os.path.join(ed, "prompts.json"), {
        "description": "one prompt per attribute combination; ids are CLIP ids (SD 1.5 tokenizer, unpadded); "
                       "labels index the evaluator classes",
        "prompts": attribute_prompts(tokenizer_for(run.paths.tokenizer))})
    log("evaluator exported")


def write_heldout(ed, test_seed):
    """20 held-out real images with labels, for tests."""
    imgs, labels, _ = D.make_dataset(20, test_seed)
    with open(os.path.join(ed, "heldout-20.rgb"), "wb") as f:
        f.write(imgs.tobytes())
    y = head_labels(labels)
    write_json(os.path.join(ed, "heldout-20.json"), {
        "file": "heldout-20.rgb", "layout": "uint8 [20, 64, 64, 3] (N, H, W, RGB)",
        "source": f"shapes_data.make_dataset(20, seed={test_seed}), the first images of the held-out set",
        "labels": {k: [int(v) for v in y[k]] for k in HEADS}})


def attribute_prompts(tokenizer):
    """One prompt per attribute combination with its CLIP ids and labels (for prompt-accuracy checks)."""
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
                    prompts.append({"prompt": text, "ids": tokenizer.encode(text),
                                    "labels": {"background": bg, "shape": sh, "color": fg, "count": cnt - 1}})
    return prompts
