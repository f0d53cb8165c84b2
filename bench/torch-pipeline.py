"""diffusers' own pipeline timed on a diffusers folder, for `npm run bench -- --compare-torch DIR`: the folder's own
class from its model_index.json, StableDiffusionPipeline or StableDiffusionXLPipeline (with no watermark: the engine
adds none).

Same prompt, size, steps, guidance and sampler (Euler) as the engine's run, in the same session: fp16 on a CUDA GPU,
float32 on the CPU. Prints one JSON line: the median whole image (PIL image encoded to PNG included, as the engine's
image includes its PNG) and the median UNet call, over --runs images after one warm-up image.
Needs torch and diffusers (diffusers_env.py: without an installed diffusers, DIFFUSERS_ENV_TOOLS names the folder of
../shared/tools/diffusers-env/pyenv.py, this project's own setup of diffusers' sources).
"""

import argparse
import io
import json
import os
import statistics
import time

from diffusers_env import import_diffusers


def pipeline_of(diffusers, model: str):
    """The folder's pipeline class and the options its from_pretrained needs for a run like the engine's."""
    with open(os.path.join(model, "model_index.json")) as f:
        name = json.load(f).get("_class_name", "StableDiffusionPipeline")
    if name == "StableDiffusionXLPipeline":
        return diffusers.StableDiffusionXLPipeline, {"add_watermarker": False}
    if name == "StableDiffusionPipeline":
        return diffusers.StableDiffusionPipeline, {"safety_checker": None, "requires_safety_checker": False}
    raise SystemExit(f"--compare-torch runs SD and SDXL folders; {model} holds a {name}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--height", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--cfg", type=float, required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import torch

    diffusers = import_diffusers()
    pipeline_class, options = pipeline_of(diffusers, args.model)
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    dtype = torch.float16 if cuda else torch.float32
    pipe = pipeline_class.from_pretrained(args.model, torch_dtype=dtype, **options)
    pipe.scheduler = diffusers.EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    unet_ms = []
    forward = pipe.unet.forward

    def timed_forward(*a, **kw):
        sync()
        start = time.perf_counter()
        out = forward(*a, **kw)
        sync()
        unet_ms.append(1000 * (time.perf_counter() - start))
        return out

    pipe.unet.forward = timed_forward

    def image(seed: int) -> float:
        generator = torch.Generator(device).manual_seed(seed)
        sync()
        start = time.perf_counter()
        result = pipe(
            args.prompt,
            width=args.width,
            height=args.height,
            num_inference_steps=args.steps,
            guidance_scale=args.cfg,
            generator=generator,
        ).images[0]
        result.save(io.BytesIO(), format="PNG")
        sync()
        return 1000 * (time.perf_counter() - start)

    with torch.inference_mode():
        image(0)  # warm-up
        unet_ms.clear()
        whole = [image(seed) for seed in range(1, args.runs + 1)]
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "device": torch.cuda.get_device_name(0) if cuda else "cpu",
                "dtype": str(dtype).replace("torch.", ""),
                "pipeline": pipeline_class.__name__,
                "runs": args.runs,
                "wholeMs": statistics.median(whole),
                "unetCallMs": statistics.median(unet_ms),
                "unetCallsPerImage": len(unet_ms) // args.runs,
            }
        )
    )


if __name__ == "__main__":
    main()
