"""Tiny voices of the real kinds, built in the tests (no hub): a random-weight VITS model for the
transformers speaker, and a Piper voice file with Piper's real interface."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch


def tiny_vits_voice(folder: Path) -> Path:
    """A random-weight VITS voice (transformers' VitsModel and VitsTokenizer), saved to `folder`."""
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {c: i for i, c in enumerate(["<pad>", " ", *"abcdefghijklmnopqrstuvwxyz.,!?'"])}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = VitsTokenizer(vocab_file=str(folder / "vocab.json"), add_blank=True, phonemize=False)
    torch.manual_seed(0)
    config = VitsConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, ffn_dim=16, flow_size=8,
        spectrogram_bins=17, upsample_initial_channel=16, upsample_rates=[4, 4], upsample_kernel_sizes=[8, 8],
        resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]], prior_encoder_num_flows=1,
        prior_encoder_num_wavenet_layers=1, posterior_encoder_num_wavenet_layers=1, duration_predictor_num_flows=1,
        duration_predictor_filter_channels=16, depth_separable_num_layers=1, sampling_rate=16000,
    )  # fmt: skip
    VitsModel(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_piper_voice(folder, speakers=1):
    """A Piper voice file with the real interface (phoneme ids, their count and the scales in, audio out):
    each phoneme id sounds as 64 random samples, each speaker's own."""
    from onnx import TensorProto, helper, numpy_helper
    from piper.phoneme_ids import DEFAULT_PHONEME_ID_MAP

    symbols = 1 + max(i for ids in DEFAULT_PHONEME_ID_MAP.values() for i in ids)
    tables = np.random.default_rng(0).uniform(-0.5, 0.5, (speakers, symbols, 64)).astype(np.float32)
    inputs = [
        helper.make_tensor_value_info("input", TensorProto.INT64, [1, "phonemes"]),
        helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
        helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3]),
    ]
    nodes = [helper.make_node("Gather", ["tables", "zero" if speakers == 1 else "sid"], ["table"])]
    if speakers > 1:
        inputs.append(helper.make_tensor_value_info("sid", TensorProto.INT64, [1]))
    nodes += [
        helper.make_node("Reshape", ["table", "table_shape"], ["flat"]),
        helper.make_node("Gather", ["flat", "input"], ["sounds"]),
        helper.make_node("Reshape", ["sounds", "audio_shape"], ["output"]),
    ]
    weights = [
        numpy_helper.from_array(tables, "tables"),
        numpy_helper.from_array(np.array([0], np.int64), "zero"),
        numpy_helper.from_array(np.array([symbols, 64], np.int64), "table_shape"),
        numpy_helper.from_array(np.array([1, 1, -1], np.int64), "audio_shape"),
    ]
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, "samples"])
    graph = helper.make_graph(nodes, "tiny_piper", inputs, [output], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    path = folder / "tiny.onnx"
    path.write_bytes(model.SerializeToString())
    config = {
        "audio": {"sample_rate": 16000},
        "espeak": {"voice": "en-us"},
        "num_symbols": symbols,
        "num_speakers": speakers,
        "speaker_id_map": {f"reader{i}": i for i in range(speakers)} if speakers > 1 else {},
        "phoneme_id_map": DEFAULT_PHONEME_ID_MAP,
    }
    (folder / "tiny.onnx.json").write_text(json.dumps(config))
    return path
