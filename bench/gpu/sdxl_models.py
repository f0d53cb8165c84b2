"""SDXL base-shaped models with random weights for the GPU benchmark (issue 22: SDXL at 1024x1024).

    python3 bench/gpu/sdxl_models.py export ROOT [--tiny]          # ROOT/sdxl-diffusers, a diffusers folder
    python3 bench/gpu/sdxl_models.py torch-bench OUT.json [--tiny]  # PyTorch eager ms per UNet call, same card

The networks are diffusers' UNet2DConditionModel and AutoencoderKL and transformers' CLIPTextModel and
CLIPTextModelWithProjection, built from the configs of SDXL base 1.0 that bench/import/sdxl-sgm-shapes.json holds
(made with diffusers' classes), with random weights from fixed seeds, saved in fp16 as a diffusers folder (each
network by its own save_pretrained, the folder's other files written here). The engine
imports it (`npm run bench -- --model ROOT/sdxl-diffusers --precision fp16`, which also writes unet_cuda/ on a CUDA
machine) and `--compare-torch` runs diffusers' StableDiffusionXLPipeline on the same folder. `torch-bench` times the
UNet alone as the SD 1.5 bench does (sd15_models.py): batch 2 (one guided step), fp16, latent 4x128x128.

--tiny shrinks every width (and the latent to 16x16) so the whole run can be rehearsed on a CPU in seconds, with
Debian's torch (../shared/tools/diffusers-env). Without CUDA the models are built and timed in float32, and saved in
fp16 as on the card. The diffusers source is found on PYTHONPATH (or DIFFUSERS_ENV_TOOLS's setup); nothing of it is
committed.
"""
import contextlib
import json
import os
import shutil
import sys
import time

import torch

from unet_timing import time_unet

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from diffusers_env import import_diffusers  # noqa: E402  (bench/, beside torch-pipeline.py)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT_REPO = os.path.dirname(os.path.dirname(HERE))
SHAPES = os.path.join(ROOT_REPO, "bench", "import", "sdxl-sgm-shapes.json")
TOKENIZER = os.path.join(ROOT_REPO, "models", "restart-shapes-64", "tokenizer")  # CLIP's vocabulary and merges
CUDA = torch.cuda.is_available()
DEVICE = "cuda" if CUDA else "cpu"
BATCH, TOKENS = 2, 77
# stabilityai/stable-diffusion-xl-base-1.0 scheduler/scheduler_config.json
SCHEDULER = {
    "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False,
    "interpolation_type": "linear", "num_train_timesteps": 1000, "prediction_type": "epsilon", "sample_max_value": 1.0,
    "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1, "timestep_spacing": "leading",
    "trained_betas": None, "use_karras_sigmas": False}


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def configs(tiny):
    """SDXL base's configs; with tiny, the same structure (two text widths, text-time conditioning, three levels with
    10 transformer layers at the deepest) at widths a CPU runs in seconds."""
    with open(SHAPES) as f:
        c = json.load(f)["configs"]
    if not tiny:
        return c
    c["text_encoder"].update(hidden_size=32, intermediate_size=64, num_attention_heads=2, num_hidden_layers=2,
                             projection_dim=32)
    c["text_encoder_2"].update(hidden_size=48, intermediate_size=96, num_attention_heads=3, num_hidden_layers=2,
                               projection_dim=40)
    c["unet"].update(block_out_channels=[32, 64, 64], attention_head_dim=[1, 2, 4], norm_num_groups=8,
                     cross_attention_dim=32 + 48, addition_time_embed_dim=8, projection_class_embeddings_input_dim=6 * 8 + 40,
                     sample_size=16)
    c["vae"].update(block_out_channels=[16, 16, 16, 16], norm_num_groups=8, sample_size=128)
    return c


def latent_side(tiny):
    return 16 if tiny else 128


def building():
    """Where new weights are made: on the card (torch 2's device context, much faster than the CPU), else the CPU."""
    return torch.device(DEVICE) if CUDA else contextlib.nullcontext()


def dtype():
    return torch.float16 if CUDA else torch.float32


def unet_model(c):
    from diffusers import UNet2DConditionModel
    return UNet2DConditionModel(**c["unet"])


def build_unet(c):
    """The UNet with the weights the exported folder has (the same seed), in the bench's dtype."""
    torch.manual_seed(3)
    with building():
        unet = unet_model(c)
    return unet.to(dtype()).eval()


def save_folder(c, folder):
    """Each network saved by its own save_pretrained as it is made (fp16 safetensors; one network in memory at a time),
    the tokenizer files copied (the second pads with "!", as SDXL's does) and model_index.json written, rather than a
    pipeline object saved whole: its constructor's options and the tokenizer classes change between the diffusers and
    transformers versions here and on the card."""
    from diffusers import AutoencoderKL
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    def save(name, seed, make):
        torch.manual_seed(seed)
        with building():
            model = make()
        model.to(torch.float16).save_pretrained(os.path.join(folder, name))
        del model
        if CUDA:
            torch.cuda.empty_cache()

    save("unet", 3, lambda: unet_model(c))
    save("text_encoder", 1, lambda: CLIPTextModel(CLIPTextConfig(**c["text_encoder"])))
    save("text_encoder_2", 2, lambda: CLIPTextModelWithProjection(CLIPTextConfig(**c["text_encoder_2"])))
    save("vae", 4, lambda: AutoencoderKL(**c["vae"]))
    for name, pad in [("tokenizer", "<|endoftext|>"), ("tokenizer_2", "!")]:
        shutil.copytree(TOKENIZER, os.path.join(folder, name), dirs_exist_ok=True)
        for file in ["special_tokens_map.json", "tokenizer_config.json"]:
            path = os.path.join(folder, name, file)
            with open(path) as f:
                settings = json.load(f)
            settings["pad_token"] = pad
            with open(path, "w") as f:
                json.dump(settings, f, indent=2)
    write_json(os.path.join(folder, "scheduler", "scheduler_config.json"),
               {"_class_name": "EulerDiscreteScheduler", **SCHEDULER})
    write_json(os.path.join(folder, "model_index.json"), {
        "_class_name": "StableDiffusionXLPipeline", "force_zeros_for_empty_prompt": True,
        "feature_extractor": [None, None], "image_encoder": [None, None],
        "scheduler": ["diffusers", "EulerDiscreteScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
        "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"], "tokenizer": ["transformers", "CLIPTokenizer"],
        "tokenizer_2": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"]})


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)


def cmd_export(root, tiny):
    import_diffusers()
    c = configs(tiny)
    folder = os.path.join(root, "sdxl-diffusers")
    t = time.time()
    save_folder(c, folder)
    log(f"saved {folder} in {time.time() - t:.1f}s on {DEVICE}")
    write_json(os.path.join(root, "sdxl-export.json"), {"folder": folder, "seconds": time.time() - t, "tiny": tiny, "device": DEVICE})


def unet_inputs(c, side):
    g = torch.Generator(device=DEVICE).manual_seed(1)
    sample = torch.randn(BATCH, 4, side, side, generator=g, device=DEVICE).to(dtype())
    timestep = torch.full((BATCH,), 500.0, device=DEVICE)
    states = torch.randn(BATCH, TOKENS, c["unet"]["cross_attention_dim"], generator=g, device=DEVICE).to(dtype())
    pooled = torch.randn(BATCH, c["text_encoder_2"]["projection_dim"], generator=g, device=DEVICE).to(dtype())
    size = side * 8  # the pipeline's time ids for a square image: original size, crop corner, target size
    time_ids = torch.tensor([[size, size, 0, 0, size, size]] * BATCH, device=DEVICE).to(dtype())
    return (sample, timestep, states), {"added_cond_kwargs": {"text_embeds": pooled, "time_ids": time_ids}}


def cmd_torch_bench(out_path, tiny, warmup=5, runs=20):
    import_diffusers()
    c = configs(tiny)
    side = latent_side(tiny)
    unet = build_unet(c)
    args, kwargs = unet_inputs(c, side)
    result = {"torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
              "gpu": torch.cuda.get_device_name(0) if CUDA else "cpu", "dtype": str(dtype()).replace("torch.", ""),
              "params": sum(p.numel() for p in unet.parameters()), "latent": [BATCH, 4, side, side], "runs": runs}

    time_unet(lambda: unet(*args, **kwargs, return_dict=False), result, out_path, log, warmup, runs)


if __name__ == "__main__":
    command, target = sys.argv[1], sys.argv[2]
    tiny = "--tiny" in sys.argv[3:]
    if command == "export":
        cmd_export(target, tiny)
    elif command == "torch-bench":
        cmd_torch_bench(target, tiny)
    else:
        sys.exit(f"unknown command {command}")
