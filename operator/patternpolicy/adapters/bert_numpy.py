"""The BERT encoder forward pass in numpy, as Hugging Face's BertModel computes it (inference only).

Weights are read from a `model.safetensors` in numpy mode, transposed once so
every dense layer is a single `x @ W`. Float32 throughout: the reference test
shows cosine > 0.9999 against sentence-transformers on torch.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
FFN_ROWS = 512


@dataclass(frozen=True)
class BertConfig:
    hidden_size: int
    num_layers: int
    num_heads: int
    layer_norm_eps: float
    max_positions: int

    @classmethod
    def from_file(cls, path: Path) -> BertConfig:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("model_type", "bert") != "bert" or raw.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"{path}: only BERT models with exact GELU are supported")
        if raw.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{path}: only absolute position embeddings are supported")
        return cls(int(raw["hidden_size"]), int(raw["num_hidden_layers"]), int(raw["num_attention_heads"]),
                   float(raw.get("layer_norm_eps", 1e-12)), int(raw.get("max_position_embeddings", 512)))


@dataclass(frozen=True)
class _Layer:
    qkv_w: F32  # (hidden, 3*hidden): query, key and value fused into one matmul
    qkv_b: F32
    out_w: F32
    out_b: F32
    ln1_g: F32
    ln1_b: F32
    up_w: F32
    up_b: F32
    down_w: F32
    down_b: F32
    ln2_g: F32
    ln2_b: F32


def _gelu(x: F32, rows: int = 64) -> F32:
    """GELU in place, a few rows at a time: the ~20 elementwise passes then run on
    data that stays in the CPU cache, which is 3x faster than streaming whole arrays."""
    for start in range(0, x.shape[0], rows):
        _gelu_block(x[start : start + rows])
    return x


def _gelu_block(x: F32) -> F32:
    """Exact (erf) GELU, in place on x; erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).

    numpy has no erf and scipy is too big a dependency. In-place steps keep the
    peak at three copies of the (tokens x 1536) activation; copysign instead of a
    boolean mask for the negative half, since masked assignment is ~10x slower.
    """
    a = np.abs(x)
    a *= np.float32(1.0 / math.sqrt(2.0))
    t = a * np.float32(0.3275911)
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for coef in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(coef)
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a  # 1 - erf(|x| / sqrt 2)
    np.subtract(np.float32(1.0), poly, out=poly)
    np.copysign(poly, x, out=poly)  # erf(x / sqrt 2)
    poly += 1.0
    poly *= 0.5
    x *= poly
    return x


def _dense(x: F32, weight: F32, bias: F32) -> F32:
    out: F32 = x @ weight
    out += bias  # in place: one (tokens x width) buffer instead of two
    return out


def _layer_norm(x: F32, gamma: F32, beta: F32, eps: float, rows: int = 256) -> F32:
    """LayerNorm over the last axis, in place on x (a 2-D activation), in cache-sized row blocks."""
    for start in range(0, x.shape[0], rows):
        block = x[start : start + rows]
        block -= block.mean(axis=-1, keepdims=True)
        scale = np.mean(np.square(block), axis=-1, keepdims=True)
        scale += np.float32(eps)
        np.sqrt(scale, out=scale)
        block /= scale
        block *= gamma
        block += beta
    return x


class BertEncoder:
    """Token ids in, last hidden states out; no pooler (sentence-transformers does not use it)."""

    def __init__(self, config: BertConfig, weights: dict[str, F32]) -> None:
        self.config = config
        w = weights
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type0 = w["embeddings.token_type_embeddings.weight"][0]  # single sentences: type 0 only
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers: list[_Layer] = []
        for i in range(config.num_layers):
            p = f"encoder.layer.{i}."
            att = p + "attention."
            self.layers.append(_Layer(
                qkv_w=np.ascontiguousarray(np.concatenate(
                    [w[att + f"self.{n}.weight"] for n in ("query", "key", "value")], axis=0).T),
                qkv_b=np.concatenate([w[att + f"self.{n}.bias"] for n in ("query", "key", "value")]),
                out_w=np.ascontiguousarray(w[att + "output.dense.weight"].T), out_b=w[att + "output.dense.bias"],
                ln1_g=w[att + "output.LayerNorm.weight"], ln1_b=w[att + "output.LayerNorm.bias"],
                up_w=np.ascontiguousarray(w[p + "intermediate.dense.weight"].T), up_b=w[p + "intermediate.dense.bias"],
                down_w=np.ascontiguousarray(w[p + "output.dense.weight"].T), down_b=w[p + "output.dense.bias"],
                ln2_g=w[p + "output.LayerNorm.weight"], ln2_b=w[p + "output.LayerNorm.bias"],
            ))

    @classmethod
    def from_dir(cls, model_dir: Path) -> BertEncoder:
        from safetensors import safe_open  # imported here: only needed when a model is loaded

        config = BertConfig.from_file(model_dir / "config.json")
        weights: dict[str, F32] = {}
        with safe_open(str(model_dir / "model.safetensors"), framework="np") as f:
            for name in f.keys():  # noqa: SIM118 - safe_open is not a mapping
                if name.startswith(("embeddings.", "encoder.")) and not name.endswith("position_ids"):
                    weights[name] = np.asarray(f.get_tensor(name), dtype=np.float32)
        return cls(config, weights)

    def _feed_forward(self, x: F32, layer: _Layer) -> F32:
        """Dense-GELU-dense, residual and LayerNorm, in place on x, FFN_ROWS tokens at a time:
        the (rows x 1536) intermediate then stays small and cache-resident (1.4x faster)."""
        inner = np.empty((min(FFN_ROWS, x.shape[0]), layer.up_w.shape[1]), dtype=np.float32)
        projected = np.empty((inner.shape[0], x.shape[1]), dtype=np.float32)
        for start in range(0, x.shape[0], FFN_ROWS):
            rows = x[start : start + FFN_ROWS]
            up = inner[: rows.shape[0]]
            np.matmul(rows, layer.up_w, out=up)
            up += layer.up_b
            _gelu(up)
            down = projected[: rows.shape[0]]
            np.matmul(up, layer.down_w, out=down)
            down += layer.down_b
            down += rows
            rows[...] = _layer_norm(down, layer.ln2_g, layer.ln2_b, self.config.layer_norm_eps)
        return x

    def forward(self, ids: I64, mask: F32) -> F32:
        """ids and mask are (batch, length); returns (batch, length, hidden)."""
        cfg = self.config
        batch, length = ids.shape
        heads, hidden = cfg.num_heads, cfg.hidden_size
        head_dim = hidden // heads
        x = (self.word[ids] + self.position[:length] + self.token_type0).reshape(batch * length, hidden)
        x = _layer_norm(x, *self.emb_ln, cfg.layer_norm_eps)
        # Padding gets the most negative float added before softmax, as HF's extended attention mask does.
        bias = ((1.0 - mask) * np.finfo(np.float32).min).astype(np.float32)[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(head_dim))
        for layer in self.layers:
            qkv = _dense(x, layer.qkv_w, layer.qkv_b).reshape(batch, length, 3, heads, head_dim)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores: F32 = q @ k
            scores *= scale
            scores += bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context: F32 = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, hidden)
            attended = _dense(context, layer.out_w, layer.out_b)
            attended += x
            x = _layer_norm(attended, layer.ln1_g, layer.ln1_b, cfg.layer_norm_eps)
            x = self._feed_forward(x, layer)
        out: F32 = x.reshape(batch, length, hidden)
        return out
