"""Configurations (training/configs/NAME.json), the folders a run reads and writes, and the Run object that
every stage takes instead of module globals."""
import json
import os
from dataclasses import dataclass, field

import torch

TRAINING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_DIR = os.path.join(TRAINING_DIR, "configs")
ROOT = os.path.dirname(TRAINING_DIR)
DEFAULT_WORK = os.path.join(TRAINING_DIR, ".work")
MODEL_REPO_DIR = os.path.join(ROOT, "models", "restart-shapes-64")


def config_names():
    return sorted(f[:-5] for f in os.listdir(CONFIG_DIR) if f.endswith(".json"))


def load_config(name):
    """configs/NAME.json as a nested dict, notes (keys starting with _) dropped. Key order is the file's: it is
    kept in checkpoints and results.json."""
    with open(os.path.join(CONFIG_DIR, name + ".json")) as f:
        cfg = json.load(f)
    return {k: v for k, v in cfg.items() if not k.startswith("_")}


# command-line flag -> (section, key) of the config it overrides
STEP_AND_BATCH_FLAGS = {"unet_steps": ("unet", "steps"), "vae_steps": ("vae", "steps"), "decoder_steps": ("vae", "ft_steps"),
                        "vae_batch": ("vae", "batch"), "decoder_batch": ("vae", "ft_batch")}


def apply_overrides(cfg, args):
    """The command line's --*-steps, --*-batch, --n-train and --vae-blocks, in place."""
    for flag, (sec, key) in STEP_AND_BATCH_FLAGS.items():
        if getattr(args, flag):
            cfg[sec][key] = getattr(args, flag)
    if args.unet_batch:
        cfg["unet"]["batch"] = cfg["unet"]["batch_from_600"] = args.unet_batch
    if args.n_train:
        cfg["n_train"] = args.n_train
    if args.vae_blocks:
        cfg["vae"]["block_out_channels"] = [int(v) for v in args.vae_blocks.split(",")]
    return cfg


def _shared_reference():
    # ../shared next to the checkout (development machines), else shared/ inside it
    d = os.path.join(ROOT, "..", "shared", "reference")
    return d if os.path.isdir(d) else os.path.join(ROOT, "shared", "reference")


def find_tokenizer_dir(shared):
    for d in (os.environ.get("TOKENIZER_DIR"), os.path.join(shared, "sd15-tokenizer"), os.path.join(MODEL_REPO_DIR, "tokenizer")):
        if d and os.path.exists(os.path.join(d, "vocab.json")) and os.path.exists(os.path.join(d, "merges.txt")):
            return d
    raise FileNotFoundError("no SD 1.5 tokenizer found (set TOKENIZER_DIR)")


@dataclass(frozen=True)
class Paths:
    work: str  # checkpoints and data ($TRAIN_WORK)
    export: str  # where stage export writes the model folder ($EXPORT_DIR)
    shared: str  # ../shared/reference (tokenizer and SD 1.5 configs), when present
    tokenizer: str

    @staticmethod
    def from_env():
        shared = _shared_reference()
        return Paths(work=os.path.abspath(os.environ.get("TRAIN_WORK") or DEFAULT_WORK),
                     export=os.path.abspath(os.environ.get("EXPORT_DIR") or MODEL_REPO_DIR),
                     shared=shared, tokenizer=find_tokenizer_dir(shared))


@dataclass
class Run:
    """One invocation's settings: the config, folders, device, bf16 autocast and per-stage wall-clock caps."""
    cfg: dict
    paths: Paths
    device: torch.device = torch.device("cpu")
    amp: bool = False  # bf16 autocast in the training loops (weights, losses and EMA stay float32)
    caps: dict = field(default_factory=dict)  # stage -> cap in seconds (--max-minutes-STAGE)

    def file(self, name):
        """A file in the work dir."""
        return os.path.join(self.paths.work, name)

    def generator(self, seed):
        return torch.Generator(device=self.device).manual_seed(seed)

    def autocast(self):
        """bf16 autocast for a training forward pass when --amp is on (a no-op context otherwise)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)
