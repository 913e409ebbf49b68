#!/usr/bin/python3
"""Loads tiny_transformer's checkpoint into PyTorch's own modules and compares their output.

    /usr/bin/python3 examples/tiny_transformer_torch.py [tiny_transformer.safetensors]

(Debian: python3-torch.) The model is rebuilt from torch.nn.Embedding, torch.nn.TransformerEncoder
(TransformerEncoderLayer with GELU, batch_first, norm_first, and a final LayerNorm) and
torch.nn.Linear; load_state_dict(strict=True) must accept the file's names and shapes as they
are, and torch's logits on the check input that tiny_transformer saved beside the checkpoint must
match eigrad's (float32: within 1e-4). Exits 1 otherwise.
"""
import json
import re
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "BOOL": torch.bool}


def load(path):
    """A safetensors file as ({name: tensor}, metadata), read without the safetensors package."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        lo, hi = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[lo:hi]), dtype=DTYPES[e["dtype"]]) if hi > lo else \
            torch.empty(0, dtype=DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"])
    return out, meta


class TinyTransformer(torch.nn.Module):
    def __init__(self, tokens, context, d_model, nhead, dim_feedforward, layers):
        super().__init__()
        self.embedding = torch.nn.Embedding(tokens, d_model)
        self.position = torch.nn.Embedding(context, d_model)
        layer = torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0,
                                                 activation="gelu", batch_first=True,
                                                 norm_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, layers, norm=torch.nn.LayerNorm(d_model),
                                                   enable_nested_tensor=False)
        self.head = torch.nn.Linear(d_model, tokens)

    def forward(self, tokens):
        t = tokens.shape[1]
        x = self.embedding(tokens) + self.position(torch.arange(t))
        mask = torch.nn.Transformer.generate_square_subsequent_mask(t)
        return self.head(self.encoder(x, mask=mask))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tiny_transformer.safetensors"
    state, meta = load(path)
    arch = meta["architecture"]
    num = lambda key: int(re.search(key + r" ?\(?(\d+)", arch).group(1))
    model = TinyTransformer(len(meta["vocabulary"]), num("position"), num("d_model"),
                            num("nhead"), num("dim_feedforward"), num("layers"))
    model.load_state_dict(state, strict=True)
    # The encoder alone, as the issue asks: a bare torch.nn.TransformerEncoder takes its names.
    encoder_state = {k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")}
    model.encoder.load_state_dict(encoder_state, strict=True)
    print(f"{path}: {len(state)} tensors loaded into torch {torch.__version__} modules with "
          f"strict=True ({len(encoder_state)} of them into torch.nn.TransformerEncoder alone)")
    check, _ = load(path + ".check.safetensors")
    model.eval()
    with torch.no_grad():
        logits = model(check["tokens"])
    diff = (logits - check["logits"]).abs().max().item()
    print(f"check input {list(check['tokens'].shape)}: largest |torch - eigrad| logit difference "
          f"{diff:.2e}")
    return 0 if diff <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
