"""Self-attention and transformers (chapter 9): attention, positions, blocks and models.

Modules, in the order the chapter introduces them:

- ``attention``: Self-attention and multi-head attention (chapter 9, transformers).
- ``positional``: Sinusoidal positional encoding (chapter 9, transformers).
- ``blocks``: Transformer blocks (chapter 9): the position-wise MLP, encoder and decoder blocks, pre- or post-norm.
- ``model``: Transformer language models (chapter 9), built from the blocks of ``transformer.blocks``.
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
from .blocks import DecoderBlock, EncoderBlock, PositionwiseMLP
from .model import TransformerLM, TransformerSeq2Seq

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
