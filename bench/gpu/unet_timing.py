"""PyTorch eager ms per UNet call on the card, as sd15_models.py and sdxl_models.py time it."""

import json
import statistics
import time

import torch


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def time_unet(call, result, out_path, log, warmup, runs):
    """Times call() (one UNet call) `runs` times after `warmup`, with PyTorch's defaults (SDPA attention,
    cudnn.benchmark off), then with cudnn.benchmark on, into result["eager"] and result["eager_cudnn_benchmark"]
    (median, min and max ms), and writes result as JSON to out_path."""

    def timed(label):
        times = []
        with torch.inference_mode():
            for i in range(warmup + runs):
                sync()
                t = time.perf_counter()
                call()
                sync()
                if i >= warmup:
                    times.append((time.perf_counter() - t) * 1000)
        result[label] = {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times)}
        log(label, result[label])

    timed("eager")
    torch.backends.cudnn.benchmark = True
    timed("eager_cudnn_benchmark")
    with open(out_path, "w") as f:
        json.dump(result, f, indent=2)
