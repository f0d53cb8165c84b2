"""Writes sd15-ldm-shapes.json: the tensor names, shapes and dtypes of an SD 1.5 single-file checkpoint in the
LDM / A1111 layout, for `npm run bench:import` (which fills them with random values itself, so no 2 GB file is
committed). The networks are built with diffusers' and transformers' own classes from SD 1.5's configs
(../shared/reference/sd15-configs) and mapped to the LDM names with diffusers' conversion script, so the names
and shapes are those of real files; the schedule buffers and the int64 position_ids of real files are added.

    /usr/bin/python3 bench/import/sd15_ldm_shapes.py     (after setting up ../shared/tools/diffusers-env)
"""
import json
import os

from shapes_common import SHARED, shapes, write_json

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

import convert_diffusers_to_original_stable_diffusion as ldm


def config(name):
    with open(os.path.join(SHARED, "reference", "sd15-configs", name), encoding="utf-8") as f:
        return {k: v for k, v in json.load(f).items() if not k.startswith("_")}


def main():
    torch.set_grad_enabled(False)
    unet = UNet2DConditionModel(**config("unet_config.json"))
    entries = shapes("model.diffusion_model.", ldm.convert_unet_state_dict(unet.state_dict()))
    del unet
    vae = AutoencoderKL(**config("vae_config.json"))
    entries.update(shapes("first_stage_model.", ldm.convert_vae_state_dict(vae.state_dict())))
    del vae
    text = CLIPTextModel(CLIPTextConfig(**config("text_encoder_config.json")))
    entries.update(shapes("cond_stage_model.transformer.", text.state_dict()))
    entries["cond_stage_model.transformer.text_model.embeddings.position_ids"] = [[1, 77], "int64"]
    for name in ["betas", "alphas_cumprod", "alphas_cumprod_prev"]:
        entries[name] = [[1000], "float32"]
    write_json("sd15-ldm-shapes.json", dict(sorted(entries.items())), entries, indent=0)


if __name__ == "__main__":
    main()
