"""The embedded model's training, one module per job; `training/train.py` is the command line.

config (configs/*.json, paths, the Run object every stage takes), common (tensor and checkpoint helpers, the
stage clock and meter), data, vae, latents, unet, evaluator, export, samples, packaging (results package to and
from a GPU machine), stages (the stage table).
"""
