"""SD 1.5-shaped models with random weights for the GPU benchmark (run on the lent GPU machine).

    python3 bench/gpu/sd15_models.py export ROOT        # ONNX folders under ROOT (see below)
    python3 bench/gpu/sd15_models.py torch-bench OUT.json  # PyTorch eager ms per UNet call, same card

The UNet is diffusers' UNet2DConditionModel built from ../shared/reference/sd15-configs/unet_config.json
(carried by pack-carry.sh; SD15_CONFIGS points at it), random weights from a fixed seed, fp16, batch 2
(one classifier-free-guidance step), latent 4x64x64 (a 512x512 image). `export` writes:
  ROOT/sd15-fp16/      a diffusers-ONNX folder our engine loads: UNet fp16 exported by torch.onnx (opset 17),
                       text encoder fp16 (CLIP ViT-L shape), VAE decoder fp32 (as A1111's --no-half-vae)
  ROOT/sd15-opt/       the same folder with the UNet passed through onnxruntime's transformer optimizer
                       (model_type unet: fused attention, GroupNorm, BiasSplitGelu, NHWC conv) then fp16
  ROOT/unet-opt-attn/  the UNet with attention fusions only (the contrib ops WebGPU also implements)
  ROOT/probes/         two trivial graphs with the UNet's inputs, to time host<->device copies per call
The diffusers source is not installed there: pack-carry.sh carries it and this script finds it on
PYTHONPATH. Nothing of it is committed.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

import torch

from unet_timing import time_unet

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT_REPO = os.path.dirname(os.path.dirname(HERE))
CONFIGS = os.environ.get("SD15_CONFIGS") or os.path.join(ROOT_REPO, "..", "shared", "reference", "sd15-configs")
TOKENIZER = os.path.join(ROOT_REPO, "models", "restart-shapes-64", "tokenizer")
BATCH, LATENT, TOKENS, HIDDEN = 2, 64, 77, 768


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def config(name):
    with open(os.path.join(CONFIGS, name)) as f:
        c = json.load(f)
    return {k: v for k, v in c.items() if not k.startswith("_")}


def build_unet(dtype):
    from diffusers import UNet2DConditionModel
    torch.manual_seed(0)
    with torch.device("cuda"):
        unet = UNet2DConditionModel(**config("unet_config.json"))
    return unet.to(dtype).eval()


def unet_inputs(dtype):
    g = torch.Generator(device="cuda").manual_seed(1)
    sample = torch.randn(BATCH, 4, LATENT, LATENT, generator=g, device="cuda").to(dtype)
    timestep = torch.full((BATCH,), 500.0, device="cuda")
    states = torch.randn(BATCH, TOKENS, HIDDEN, generator=g, device="cuda").to(dtype)
    return sample, timestep, states


class UNetOnnx(torch.nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states):
        return self.unet(sample, timestep, encoder_hidden_states, return_dict=False)[0]


def export(module, args, path, inputs, outputs, axes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    t = time.time()
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          opset_version=17, do_constant_folding=True, dynamo=False)
    log(f"exported {path} in {time.time() - t:.1f}s")


UNET_AXES = {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
             "encoder_hidden_states": {0: "batch"}, "out_sample": {0: "batch", 2: "height", 3: "width"}}


def export_unet(path, dtype):
    unet = build_unet(dtype)
    export(UNetOnnx(unet), unet_inputs(dtype), path, ["sample", "timestep", "encoder_hidden_states"], ["out_sample"], UNET_AXES)
    del unet
    torch.cuda.empty_cache()


class TextOnnx(torch.nn.Module):
    def __init__(self, te):
        super().__init__()
        self.te = te

    def forward(self, input_ids):
        out = self.te(input_ids.long())
        return out[0], out[1]


def project_text_encoder():
    """The project's own CLIP-like encoder (training/models.py) at CLIP ViT-L/14's size: the fallback."""
    sys.path.insert(0, os.path.join(ROOT_REPO, "training"))
    import numpy as np
    import models as M
    torch.manual_seed(2)
    te = M.TextEncoder({"hidden_size": HIDDEN, "intermediate_size": 3072, "num_hidden_layers": 12,
                        "num_attention_heads": 12, "max_position_embeddings": 77}, np.arange(49408))
    return TextOnnx(te.to("cuda").half().eval())


def text_encoder():
    """CLIP ViT-L/14 text tower (transformers), or, if it cannot be built there, the project's own CLIP-like encoder."""
    cfg = config("text_encoder_config.json")
    try:
        from transformers import CLIPTextConfig, CLIPTextModel
        torch.manual_seed(2)
        te = CLIPTextModel(CLIPTextConfig(**cfg), ).to("cuda").half().eval()
        te.config._attn_implementation = "eager"
        return TextOnnx(te), "transformers CLIPTextModel"
    except Exception:
        traceback.print_exc()
    return project_text_encoder(), "project TextEncoder (CLIP-like)"


class VaeDecoderOnnx(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latent_sample):
        return self.vae.decode(latent_sample, return_dict=False)[0]


def write_folder_files(folder, notes):
    shutil.copytree(TOKENIZER, os.path.join(folder, "tokenizer"), dirs_exist_ok=True)
    os.makedirs(os.path.join(folder, "scheduler"), exist_ok=True)
    shutil.copy(os.path.join(CONFIGS, "scheduler_config.json"), os.path.join(folder, "scheduler", "scheduler_config.json"))
    for comp, name in [("unet", "unet_config.json"), ("text_encoder", "text_encoder_config.json"), ("vae_decoder", "vae_config.json")]:
        os.makedirs(os.path.join(folder, comp), exist_ok=True)
        shutil.copy(os.path.join(CONFIGS, name), os.path.join(folder, comp, "config.json"))
    with open(os.path.join(folder, "model_index.json"), "w") as f:
        json.dump({"_class_name": "OnnxStableDiffusionPipeline", "notes": notes,
                   "text_encoder": ["diffusers", "OnnxRuntimeModel"], "unet": ["diffusers", "OnnxRuntimeModel"],
                   "vae_decoder": ["diffusers", "OnnxRuntimeModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
                   "scheduler": ["diffusers", "PNDMScheduler"]}, f, indent=2)


def optimize_unet(src, dst, attention_only, src_is_fp16=False):
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model
    t = time.time()
    opts = FusionOptions("unet")
    if attention_only:
        for name in ["enable_nhwc_conv", "enable_group_norm", "enable_skip_group_norm", "enable_bias_splitgelu",
                     "enable_bias_add", "enable_bias_skip_layer_norm", "enable_packed_qkv", "enable_packed_kv"]:
            if hasattr(opts, name):
                setattr(opts, name, False)
    else:
        opts.enable_packed_kv = True
        opts.enable_packed_qkv = True
    m = optimize_model(src, model_type="unet", num_heads=0, hidden_size=0, opt_level=0, optimization_options=opts, use_gpu=True)
    if not src_is_fp16:
        m.convert_float_to_float16(keep_io_types=False, op_block_list=["RandomNormalLike", "Resize"])
    stats = m.get_fused_operator_statistics() if hasattr(m, "get_fused_operator_statistics") else {}
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    m.save_model_to_file(dst, use_external_data_format=False)
    log(f"optimized {src} -> {dst} in {time.time() - t:.1f}s: {stats}")
    return stats


def probes(folder):
    """Trivial graphs with the UNet's inputs: the time of one run is the per-call copy + launch cost."""
    import onnx
    from onnx import TensorProto, helper
    os.makedirs(folder, exist_ok=True)
    f16 = TensorProto.FLOAT16
    sample = helper.make_tensor_value_info("sample", f16, [BATCH, 4, LATENT, LATENT])
    ts = helper.make_tensor_value_info("timestep", TensorProto.FLOAT, [BATCH])
    states = helper.make_tensor_value_info("encoder_hidden_states", f16, [BATCH, TOKENS, HIDDEN])
    out = helper.make_tensor_value_info("out_sample", f16, [BATCH, 4, LATENT, LATENT])
    # latent only: out = sample * 1 (keeps a kernel on the device)
    one = helper.make_tensor("one", f16, [], [1.0])
    g1 = helper.make_graph([helper.make_node("Mul", ["sample", "one"], ["out_sample"])], "latent_only", [sample], [out], [one])
    onnx.save(helper.make_model(g1, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(folder, "latent-only.onnx"))
    # all UNet inputs: out = sample + mean(states) + timestep*0-ish use, so every input is read on the device
    nodes = [helper.make_node("ReduceMean", ["encoder_hidden_states"], ["m"], keepdims=0),
             helper.make_node("Cast", ["timestep"], ["t16"], to=f16),
             helper.make_node("ReduceMean", ["t16"], ["tm"], keepdims=0),
             helper.make_node("Add", ["m", "tm"], ["s"]),
             helper.make_node("Add", ["sample", "s"], ["out_sample"])]
    g2 = helper.make_graph(nodes, "all_inputs", [sample, ts, states], [out])
    onnx.save(helper.make_model(g2, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(folder, "all-inputs.onnx"))


def save_diffusers(folder, done):
    """The same three networks (same seeds) as a diffusers folder (fp16 safetensors): the app imports it
    (`npm run bench -- --model FOLDER --precision fp16`, which writes unet_cuda/ on a CUDA machine) and
    `--compare-torch` runs diffusers' StableDiffusionPipeline on it. Needs transformers for the text encoder."""
    from diffusers import AutoencoderKL
    from transformers import CLIPTextConfig, CLIPTextModel
    build_unet(torch.float16).save_pretrained(os.path.join(folder, "unet"))
    torch.cuda.empty_cache()
    torch.manual_seed(2)
    CLIPTextModel(CLIPTextConfig(**config("text_encoder_config.json"))).half().save_pretrained(os.path.join(folder, "text_encoder"))
    torch.manual_seed(3)
    AutoencoderKL(**config("vae_config.json")).save_pretrained(os.path.join(folder, "vae"))
    shutil.copytree(TOKENIZER, os.path.join(folder, "tokenizer"), dirs_exist_ok=True)
    os.makedirs(os.path.join(folder, "scheduler"), exist_ok=True)
    shutil.copy(os.path.join(CONFIGS, "scheduler_config.json"), os.path.join(folder, "scheduler", "scheduler_config.json"))
    with open(os.path.join(folder, "model_index.json"), "w") as f:
        json.dump({"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.30.3",
                   "feature_extractor": [None, None], "safety_checker": [None, None], "requires_safety_checker": False,
                   "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
                   "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
                   "scheduler": ["diffusers", "PNDMScheduler"]}, f, indent=2)
    done["diffusers folder"] = folder


def cmd_export(root):
    done = {}
    plain = os.path.join(root, "sd15-fp16")
    steps = [
        ("probes", lambda: probes(os.path.join(root, "probes"))),
        ("unet fp16", lambda: export_unet(os.path.join(plain, "unet", "model.onnx"), torch.float16)),
        ("text encoder", lambda: export_text(plain, done)),
        ("vae decoder", lambda: export_vae(plain)),
        ("folder files", lambda: write_folder_files(plain, "random weights, SD 1.5 shapes; benchmark only")),
        ("unet fp32", lambda: export_unet(os.path.join(root, "unet-fp32", "model.onnx"), torch.float32)),
        ("optimize unet", lambda: make_opt_folder(root, plain, done)),
        ("diffusers folder", lambda: save_diffusers(os.path.join(root, "sd15-diffusers"), done)),
    ]
    for name, fn in steps:
        t = time.time()
        try:
            fn()
            done[name] = f"ok in {time.time() - t:.1f}s"
        except Exception as e:  # keep going: the benchmark uses whatever was made
            traceback.print_exc()
            done[name] = f"FAILED: {type(e).__name__}: {str(e)[:300]}"
        log(name, done[name])
    with open(os.path.join(root, "export.json"), "w") as f:
        json.dump({k: v for k, v in done.items()}, f, indent=2, default=str)
    open(os.path.join(root, "EXPORT_DONE"), "w").close()


def export_text(folder, done):
    module, kind = text_encoder()
    ids = torch.full((BATCH, TOKENS), 49407, dtype=torch.int32, device="cuda")
    ids[:, 0] = 49406
    done["text encoder kind"] = kind
    path = os.path.join(folder, "text_encoder", "model.onnx")
    axes = {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}, "pooler_output": {0: "batch"}}
    try:
        export(module, (ids,), path, ["input_ids"], ["last_hidden_state", "pooler_output"], axes)
    except Exception:
        if kind.startswith("project"):
            raise
        traceback.print_exc()
        done["text encoder kind"] = "project TextEncoder (CLIP-like; transformers export failed)"
        export(project_text_encoder(), (ids,), path, ["input_ids"], ["last_hidden_state", "pooler_output"], axes)


def export_vae(folder):
    from diffusers import AutoencoderKL
    torch.manual_seed(3)
    with torch.device("cuda"):
        vae = AutoencoderKL(**config("vae_config.json")).eval()
    z = torch.randn(1, 4, LATENT, LATENT, device="cuda")
    export(VaeDecoderOnnx(vae), (z,), os.path.join(folder, "vae_decoder", "model.onnx"), ["latent_sample"], ["sample"],
           {"latent_sample": {0: "batch", 2: "h", 3: "w"}, "sample": {0: "batch", 2: "H", 3: "W"}})


def unet_source(root, plain):
    """The fp32 export (fusions before fp16 conversion, as onnxruntime advises), else the fp16 one."""
    fp32 = os.path.join(root, "unet-fp32", "model.onnx")
    return (fp32, False) if os.path.exists(fp32) else (os.path.join(plain, "unet", "model.onnx"), True)


def make_opt_folder(root, plain, done):
    opt = os.path.join(root, "sd15-opt")
    src, is16 = unet_source(root, plain)
    # the attention-only variant in a second process, at the same time
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "optimize-attn", root])
    done["opt stats"] = optimize_unet(src, os.path.join(opt, "unet", "model.onnx"), False, is16)
    done["optimize unet attention only"] = f"exit code {child.wait()}"
    for comp in ["text_encoder", "vae_decoder", "tokenizer", "scheduler"]:
        shutil.copytree(os.path.join(plain, comp), os.path.join(opt, comp), dirs_exist_ok=True)
    shutil.copy(os.path.join(plain, "unet", "config.json"), os.path.join(opt, "unet", "config.json"))
    shutil.copy(os.path.join(plain, "model_index.json"), os.path.join(opt, "model_index.json"))


def cmd_torch_bench(out_path, warmup=10, runs=40):
    unet = build_unet(torch.float16)
    args = unet_inputs(torch.float16)
    result = {"torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
              "gpu": torch.cuda.get_device_name(0), "params": sum(p.numel() for p in unet.parameters()), "runs": runs}

    time_unet(lambda: unet(*args, return_dict=False), result, out_path, log, warmup, runs)


if __name__ == "__main__":
    if sys.argv[1] == "export":
        cmd_export(sys.argv[2])
    elif sys.argv[1] == "optimize-attn":
        src, is16 = unet_source(sys.argv[2], os.path.join(sys.argv[2], "sd15-fp16"))
        optimize_unet(src, os.path.join(sys.argv[2], "unet-opt-attn", "model.onnx"), True, is16)
    elif sys.argv[1] == "torch-bench":
        cmd_torch_bench(sys.argv[2])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
