"""The stage table: each stage is a function of the Run, resumable from the work dir."""
from trainer.data import stage_data
from trainer.evaluator import stage_evaluator, stage_real_sample, stage_vae_check
from trainer.export import stage_export
from trainer.latents import stage_latents
from trainer.samples import stage_samples
from trainer.unet import stage_unet
from trainer.vae import stage_decoder, stage_vae

STAGES = {"data": stage_data, "vae": stage_vae, "latents": stage_latents, "unet": stage_unet,
          "unet_more": lambda run: stage_unet(run, more=True), "decoder": stage_decoder,
          "real_sample": stage_real_sample,
          "evaluator": stage_evaluator, "export": stage_export, "samples": stage_samples,
          "vae_check": stage_vae_check}
DEFAULT_RUN = ["data", "vae", "latents", "unet", "decoder", "evaluator", "export", "samples"]
