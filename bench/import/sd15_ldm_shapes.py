"""Writes sd15-ldm-shapes.json: the tensor names, shapes and dtypes of an SD 1.5 single-file checkpoint in the
LDM / A1111 layout, for `npm run bench:import` (which fills them with random values itself, so no 2 GB file is
committed). The networks are built with diffusers' and transformers' own classes from SD 1.5's configs
(../shared/reference/sd15-configs) and mapped to the LDM names with diffusers' conversion script, so the names
and shapes are those of real files; the schedule buffers and the int64 position_ids of real files are added.

    /usr/bin/python3 bench/import/sd15_ldm_shapes.py     (after setting up ../shared/tools/diffusers-env)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared"))
PYLIB = os.environ.get("DIFFUSERS_ENV", "/tmp/pylib/site")
sys.path.insert(0, os.path.join(SHARED, "tools", "diffusers-env"))
sys.path.insert(0, os.path.join(os.path.dirname(PYLIB), "dl", "scripts"))
import pyenv  # noqa: E402,F401

import torch  # noqa: E402
from diffusers import AutoencoderKL, UNet2DConditionModel  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModel  # noqa: E402

import convert_diffusers_to_original_stable_diffusion as ldm  # noqa: E402


def config(name):
    with open(os.path.join(SHARED, "reference", "sd15-configs", name), encoding="utf-8") as f:
        return {k: v for k, v in json.load(f).items() if not k.startswith("_")}


def shapes(state):
    return {k: [list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in state.items()}


def main():
    torch.set_grad_enabled(False)
    unet = UNet2DConditionModel(**config("unet_config.json"))
    entries = shapes({"model.diffusion_model." + k: v for k, v in ldm.convert_unet_state_dict(unet.state_dict()).items()})
    del unet
    vae = AutoencoderKL(**config("vae_config.json"))
    entries.update(shapes({"first_stage_model." + k: v for k, v in ldm.convert_vae_state_dict(vae.state_dict()).items()}))
    del vae
    text = CLIPTextModel(CLIPTextConfig(**config("text_encoder_config.json")))
    entries.update(shapes({"cond_stage_model.transformer." + k: v for k, v in text.state_dict().items()}))
    entries["cond_stage_model.transformer.text_model.embeddings.position_ids"] = [[1, 77], "int64"]
    for name in ["betas", "alphas_cumprod", "alphas_cumprod_prev"]:
        entries[name] = [[1000], "float32"]
    with open(os.path.join(HERE, "sd15-ldm-shapes.json"), "w", encoding="utf-8") as f:
        json.dump(dict(sorted(entries.items())), f, indent=0)
        f.write("\n")
    params = sum(torch.Size(s).numel() for s, _ in entries.values())
    print(f"{len(entries)} tensors, {params / 1e6:.1f} M values")


if __name__ == "__main__":
    main()
