"""Self-attention and transformers (chapter 9): attention, positions, blocks and models.

Modules, in the order the chapter introduces them:

- ``attention``: Self-attention and multi-head attention (chapter 9, transformers).
- ``positional``: Sinusoidal positional encoding (chapter 9, transformers).
- ``model``: Transformer blocks and transformer language models (chapter 9).
"""

from .attention import (
    AttentionOutput,
    MultiHeadAttention,
    causal_mask,
    lecture_self_attention,
    lecture_weights,
    merge_heads,
    multi_head_attention,
    scaled_dot_product_attention,
    simple_self_attention,
    split_heads,
    xavier,
)
from .positional import sinusoidal_positional_encoding
from .model import DecoderBlock, EncoderBlock, PositionwiseMLP, TransformerLM, TransformerSeq2Seq

__all__ = [
    "AttentionOutput",
    "DecoderBlock",
    "EncoderBlock",
    "MultiHeadAttention",
    "PositionwiseMLP",
    "TransformerLM",
    "TransformerSeq2Seq",
    "causal_mask",
    "lecture_self_attention",
    "lecture_weights",
    "merge_heads",
    "multi_head_attention",
    "scaled_dot_product_attention",
    "simple_self_attention",
    "sinusoidal_positional_encoding",
    "split_heads",
    "xavier",
]
