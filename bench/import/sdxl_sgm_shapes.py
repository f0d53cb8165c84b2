"""Writes sdxl-sgm-shapes.json: the tensor names, shapes and dtypes of an SDXL base single-file checkpoint in
Stability's SGM layout (sd_xl_base_1.0.safetensors' layout), and the diffusers configs they come from. The networks
are built with diffusers' and transformers' own classes from stable-diffusion-xl-base-1.0's configs (below) and
mapped to SGM names with the functions of diffusers' scripts/convert_diffusers_to_original_sdxl.py, so the names and
shapes are those of real files. Parameters live on torch's meta device: nothing is allocated or initialised, so
this takes seconds instead of the 10+ GB an SDXL UNet needs. The importer's tests infer configs and build graphs
from these shapes; a benchmark can fill them with random values.

    /usr/bin/python3 bench/import/sdxl_sgm_shapes.py     (after setting up ../shared/tools/diffusers-env)
"""
from shapes_common import shapes, write_json

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

import convert_diffusers_to_original_sdxl as sgm

# stabilityai/stable-diffusion-xl-base-1.0 (unet/, vae/, text_encoder/, text_encoder_2/ config.json), keys that
# differ from the classes' defaults.
UNET = {
    "addition_embed_type": "text_time", "addition_embed_type_num_heads": 64, "addition_time_embed_dim": 256,
    "attention_head_dim": [5, 10, 20], "block_out_channels": [320, 640, 1280], "cross_attention_dim": 2048,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "in_channels": 4, "out_channels": 4, "layers_per_block": 2, "norm_num_groups": 32,
    "projection_class_embeddings_input_dim": 2816, "sample_size": 128, "transformer_layers_per_block": [1, 2, 10],
    "use_linear_projection": True,
}
VAE = {
    "block_out_channels": [128, 256, 512, 512], "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4, "force_upcast": True, "in_channels": 3, "out_channels": 3,
    "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "sample_size": 1024, "scaling_factor": 0.13025,
}
TEXT = {
    "hidden_act": "quick_gelu", "hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
    "num_hidden_layers": 12, "projection_dim": 768, "vocab_size": 49408, "max_position_embeddings": 77,
    "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1,
}
TEXT_2 = {**TEXT, "hidden_act": "gelu", "hidden_size": 1280, "intermediate_size": 5120, "num_attention_heads": 20,
          "num_hidden_layers": 32, "projection_dim": 1280}

_register_parameter = torch.nn.Module.register_parameter


def register_on_meta(self, name, param):
    """Every parameter moves to the meta device as it is registered: shapes without memory, init a no-op."""
    if param is not None and param.device.type != "meta":
        param = torch.nn.Parameter(param.detach().to("meta"), requires_grad=param.requires_grad)
    _register_parameter(self, name, param)


def main():
    torch.set_grad_enabled(False)
    torch.nn.Module.register_parameter = register_on_meta
    unet = UNet2DConditionModel(**UNET)
    entries = shapes("model.diffusion_model.", sgm.convert_unet_state_dict(unet.state_dict()))
    vae = AutoencoderKL(**VAE)
    entries.update(shapes("first_stage_model.", sgm.convert_vae_state_dict(vae.state_dict())))
    text = CLIPTextModel(CLIPTextConfig(**TEXT)).state_dict()
    entries.update(shapes("conditioner.embedders.0.transformer.", {k: v for k, v in text.items() if not k.endswith("position_ids")}))
    # Real files carry the int64 position_ids buffer of old transformers versions, and OpenCLIP's logit_scale.
    entries["conditioner.embedders.0.transformer.text_model.embeddings.position_ids"] = [[1, 77], "int64"]
    text_2 = sgm.convert_openclip_text_enc_state_dict(CLIPTextModelWithProjection(CLIPTextConfig(**TEXT_2)).state_dict())
    text_2["text_projection"] = text_2.pop("text_projection.weight").T  # [width, projection], as the script stores it
    entries.update(shapes("conditioner.embedders.1.model.", text_2))
    entries["conditioner.embedders.1.model.logit_scale"] = [[], "float32"]
    configs = {"unet": UNET, "vae": VAE, "text_encoder": TEXT, "text_encoder_2": TEXT_2}
    write_json("sdxl-sgm-shapes.json", {"configs": configs, "tensors": dict(sorted(entries.items()))}, entries, separators=(",", ":"))


if __name__ == "__main__":
    main()
