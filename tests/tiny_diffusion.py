"""Tiny random-weight diffusers pipelines of the real classes, saved with `save_pretrained`, as diffusers'
own tests build them. Nothing comes from a hub: the tokenizers are written here."""

from __future__ import annotations

import json
from pathlib import Path

import torch


def clip_tokenizer(folder: Path):
    """A byte-level CLIP BPE with single characters only: enough to tokenise any prompt."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    # GPT-2's byte-to-character table: every byte a printable character
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = (b for b in range(256) if b not in printable)
    symbols = [chr(b) for b in printable] + [chr(256 + n) for n, _ in enumerate(extra)]
    vocab = {s: i for i, s in enumerate(symbols + [s + "</w>" for s in symbols])}
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    # positional paths: transformers 5 ignores the keyword names
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)


def word_tokenizer():
    """A T5-style tokenizer: whole words, a pad token, no hub files."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["a", "the", "and", "of", "in", "on", "with", "to", "at", "cat", "dog", "girl", "walks", "night", "snow"]
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(words)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=128
    )


def stable_diffusion(folder: Path) -> Path:
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=2,
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=[4, 8],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
        norm_num_groups=2,
    )
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=512,
            eos_token_id=513,
            pad_token_id=513,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=514,
            max_position_embeddings=77,
        )
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=clip_tokenizer(folder / "_tokenizer"),
        unet=unet,
        scheduler=EulerDiscreteScheduler(
            beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, steps_offset=1
        ),
        safety_checker=None,
        feature_extractor=None,
        image_encoder=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    return folder


def stable_video_diffusion(folder: Path) -> Path:
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,
        num_attention_heads=8,
        projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        latent_channels=4,
    )
    torch.manual_seed(0)
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            projection_dim=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=224,  # the pipeline resizes its input image to 224 itself
            intermediate_size=37,
            patch_size=28,
        )
    )
    pipe = StableVideoDiffusionPipeline(
        vae=vae,
        image_encoder=image_encoder,
        unet=unet,
        scheduler=scheduler,
        feature_extractor=CLIPImageProcessor(crop_size=32, size=32),
    )
    pipe.save_pretrained(folder)
    return folder


def ltx_condition(folder: Path) -> Path:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    torch.manual_seed(0)
    text_encoder = T5EncoderModel(
        T5Config(vocab_size=32, d_model=32, d_kv=8, d_ff=37, num_layers=1, num_heads=4, decoder_start_token_id=0)
    )
    pipe = LTXConditionPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=word_tokenizer(),
        transformer=transformer,
    )
    pipe.save_pretrained(folder)
    return folder


def ip_adapter(folder: Path, unet_folder: Path) -> Path:
    """An IP-Adapter for the tiny Stable Diffusion: folder/models/ip-adapter.bin and its image encoder."""
    from diffusers import UNet2DConditionModel
    from diffusers.models.attention_processor import IPAdapterAttnProcessor
    from diffusers.models.embeddings import ImageProjection
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    unet = UNet2DConditionModel.from_pretrained(unet_folder, subfolder="unet")
    dim = unet.config.cross_attention_dim
    torch.manual_seed(0)
    adapter, key = {}, 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue  # self-attention takes no image tokens
        block = int(name.split(".")[1]) if not name.startswith("mid_block") else -1
        channels = unet.config.block_out_channels
        hidden = channels[-1] if block < 0 else (channels[::-1] if name.startswith("up") else channels)[block]
        weights = IPAdapterAttnProcessor(hidden_size=hidden, cross_attention_dim=dim, scale=1.0).state_dict()
        adapter[f"{key}.to_k_ip.weight"] = weights["to_k_ip.0.weight"]
        adapter[f"{key}.to_v_ip.weight"] = weights["to_v_ip.0.weight"]
        key += 2
    projection = ImageProjection(cross_attention_dim=dim, image_embed_dim=dim, num_image_text_embeds=4).state_dict()
    image_proj = {
        "proj.weight": projection["image_embeds.weight"],
        "proj.bias": projection["image_embeds.bias"],
        "norm.weight": projection["norm.weight"],
        "norm.bias": projection["norm.bias"],
    }
    (folder / "models").mkdir(parents=True, exist_ok=True)
    torch.save({"image_proj": image_proj, "ip_adapter": adapter}, folder / "models" / "ip-adapter.bin")
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            projection_dim=dim,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=224,
            intermediate_size=37,
            patch_size=28,
        )
    )
    encoder.save_pretrained(folder / "models" / "image_encoder")
    return folder


def controlnet(folder: Path, sd_folder: Path) -> Path:
    """A ControlNet for the tiny Stable Diffusion, random weights made from its UNet: its conditioning image
    is downsampled 2x, as the tiny VAE downsamples the picture."""
    from diffusers import ControlNetModel, UNet2DConditionModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel.from_pretrained(sd_folder, subfolder="unet")
    model = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(8, 16))
    with torch.no_grad():  # from_unet zeroes its outputs: give them weight, so the structure shows
        for block in [*model.controlnet_down_blocks, model.controlnet_mid_block]:
            block.weight.normal_(0, 0.5)
    model.save_pretrained(folder)
    return folder


def animatediff_sparsectrl(folder: Path, sd_folder: Path) -> Path:
    """AnimateDiff with a SparseCtrl ControlNet on the tiny Stable Diffusion: a text-to-video pipeline whose
    motion follows sparse control frames (depth maps here) at chosen frames."""
    from diffusers import (
        AnimateDiffSparseControlNetPipeline,
        DDIMScheduler,
        MotionAdapter,
        SparseControlNetModel,
        StableDiffusionPipeline,
    )

    base = StableDiffusionPipeline.from_pretrained(sd_folder)
    channels = base.unet.config.block_out_channels
    torch.manual_seed(0)
    adapter = MotionAdapter(
        block_out_channels=channels, motion_layers_per_block=1, motion_norm_num_groups=2, motion_num_attention_heads=2
    )
    torch.manual_seed(0)
    controlnet = SparseControlNetModel(
        block_out_channels=channels,
        layers_per_block=1,
        in_channels=4,
        conditioning_channels=3,
        down_block_types=("DownBlockMotion", "CrossAttnDownBlockMotion"),
        cross_attention_dim=base.unet.config.cross_attention_dim,
        conditioning_embedding_out_channels=(8, 16),
        norm_num_groups=2,
        motion_num_attention_heads=2,
        use_simplified_condition_embedding=False,
    )
    with torch.no_grad():  # a fresh ControlNet's outputs are zero: give them weight, so the structure shows
        for block in [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]:
            block.weight.normal_(0, 0.5)
    pipe = AnimateDiffSparseControlNetPipeline(
        vae=base.vae,
        text_encoder=base.text_encoder,
        tokenizer=base.tokenizer,
        unet=base.unet,
        motion_adapter=adapter,
        controlnet=controlnet,
        scheduler=DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False),
        feature_extractor=None,
        image_encoder=None,
    )
    pipe.save_pretrained(folder)
    return folder


def clip_model(folder: Path) -> Path:
    """A tiny random CLIP (text and vision towers) with its processor, for the eval's prompt alignment."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={
            "vocab_size": 514,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_attention_heads": 4,
            "num_hidden_layers": 2,
            "max_position_embeddings": 77,
            "bos_token_id": 512,
            "eos_token_id": 513,
            "pad_token_id": 513,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_attention_heads": 4,
            "num_hidden_layers": 2,
            "image_size": 224,
            "patch_size": 28,
        },
        projection_dim=32,
    )
    CLIPModel(config).save_pretrained(folder)
    processor = CLIPProcessor(image_processor=CLIPImageProcessor(), tokenizer=clip_tokenizer(folder / "_tokenizer"))
    processor.save_pretrained(folder)
    return folder


def lora(path: Path, sd_folder: Path, seed: int, rank: int = 4) -> Path:
    """Random LoRA weights for the tiny Stable Diffusion's UNet attention (made with peft, as diffusers' own
    LoRA tests make theirs), saved in diffusers' layout as one .safetensors file."""
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet = UNet2DConditionModel.from_pretrained(sd_folder, subfolder="unet")
    torch.manual_seed(seed)
    config = LoraConfig(
        r=rank, lora_alpha=rank, target_modules=["to_q", "to_k", "to_v", "to_out.0"], init_lora_weights=False
    )
    unet.add_adapter(config)
    with torch.no_grad():  # big enough to move a 64x64 picture visibly
        for name, parameter in unet.named_parameters():
            if "lora_" in name:
                parameter.mul_(4.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    StableDiffusionPipeline.save_lora_weights(
        path.parent, unet_lora_layers=get_peft_model_state_dict(unet), weight_name=path.name
    )
    return path
