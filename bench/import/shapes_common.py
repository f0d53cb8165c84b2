"""What the shape-list scripts of this folder share: diffusers' and transformers' sources on the path (set up by
../shared/tools/diffusers-env; its scripts/ folder holds diffusers' conversion scripts) and the written lists."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared"))
sys.path.insert(0, os.path.join(SHARED, "tools", "diffusers-env"))
sys.path.insert(0, os.path.join(os.path.dirname(os.environ.get("DIFFUSERS_ENV", "/tmp/pylib/site")), "dl", "scripts"))
import pyenv  # noqa: E402,F401

import torch  # noqa: E402


def shapes(prefix, state):
    """name -> [shape, dtype] of a state dict, each name under `prefix`."""
    return {prefix + k: [list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in state.items()}


def write_json(name, payload, entries, **dump_options):
    """Writes `payload` as this folder's `name` and says how big the model of `entries` is."""
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(payload, f, **dump_options)
        f.write("\n")
    params = sum(torch.Size(s).numel() for s, _ in entries.values())
    print(f"{len(entries)} tensors, {params / 1e6:.1f} M values")
