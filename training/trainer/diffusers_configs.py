"""The exported folder's config files in diffusers / transformers formats, with this model's values, so the engine
(and diffusers) read the folder like any SD 1.x ONNX export."""

NAME = "restart-studio/restart-shapes-64"
ONNX_MODEL = ["diffusers", "OnnxRuntimeModel"]


def model_index(mi):
    """SD 1.5's model_index.json adapted to the ONNX pipeline's components."""
    mi["_class_name"] = "OnnxStableDiffusionPipeline"
    for k in ("text_encoder", "unet", "vae_decoder", "vae_encoder"):
        mi[k] = ONNX_MODEL
    mi.pop("vae", None)
    mi["requires_safety_checker"] = False
    return mi


def unet_config(uc, sample_size):
    n = len(uc["block_out_channels"])
    return {
        "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.10.2", "_name_or_path": NAME,
        "act_fn": "silu", "attention_head_dim": uc["attention_head_dim"], "block_out_channels": uc["block_out_channels"],
        "center_input_sample": False, "cross_attention_dim": uc["cross_attention_dim"],
        "down_block_types": ["CrossAttnDownBlock2D"] * n, "downsample_padding": 1, "dual_cross_attention": False,
        "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": uc["in_channels"], "layers_per_block": uc["layers_per_block"],
        "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": uc["norm_num_groups"], "num_class_embeds": None,
        "only_cross_attention": False, "out_channels": uc["out_channels"], "sample_size": sample_size,
        "up_block_types": ["CrossAttnUpBlock2D"] * n, "upcast_attention": False, "use_linear_projection": False}


def vae_config(vc, scaling_factor):
    """The same file for vae_decoder/ and vae_encoder/."""
    n = len(vc["block_out_channels"])
    return {
        "_class_name": "AutoencoderKL", "_diffusers_version": "0.10.2", "_name_or_path": NAME,
        "act_fn": "silu", "block_out_channels": vc["block_out_channels"], "down_block_types": ["DownEncoderBlock2D"] * n,
        "in_channels": 3, "latent_channels": vc["latent_channels"], "layers_per_block": vc["layers_per_block"],
        "norm_num_groups": vc["norm_num_groups"], "out_channels": 3, "sample_size": 64, "scaling_factor": scaling_factor,
        "up_block_types": ["UpDecoderBlock2D"] * n}


def text_encoder_config(tc):
    return {
        "_name_or_path": NAME, "architectures": ["CLIPTextModel"], "attention_dropout": 0.0,
        "bos_token_id": 49406, "dropout": 0.0, "eos_token_id": 49407, "hidden_act": "quick_gelu",
        "hidden_size": tc["hidden_size"], "initializer_factor": 1.0, "initializer_range": 0.02,
        "intermediate_size": tc["intermediate_size"], "layer_norm_eps": 1e-05,
        "max_position_embeddings": tc["max_position_embeddings"], "model_type": "clip_text_model",
        "num_attention_heads": tc["num_attention_heads"], "num_hidden_layers": tc["num_hidden_layers"], "pad_token_id": 49407,
        "projection_dim": tc["hidden_size"], "torch_dtype": "float32", "transformers_version": "4.19.2", "vocab_size": 49408}
