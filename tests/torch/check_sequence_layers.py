#!/usr/bin/python3
"""PyTorch's own modules as the reference for eigrad's sequence layers.

    /usr/bin/python3 tests/torch/check_sequence_layers.py LAYERS.safetensors

LAYERS.safetensors comes from export_sequence_layers (tests/torch/export_sequence_layers.cpp):
each layer's state dict, inputs and eigrad's outputs in float64. Every state dict must load into
the matching torch.nn module with load_state_dict(strict=True) as saved (names, shapes, dtypes),
and torch's outputs on the same inputs must equal eigrad's within 1e-10. Prints one line per
layer; exits 1 on any failure. Needs Debian's python3-torch (1.13); the ctest that runs it
exists only where it is installed.
"""
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "BOOL": torch.bool}
TOLERANCE = 1e-10


def load(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        lo, hi = e["data_offsets"]
        raw = bytearray(data[lo:hi])
        t = torch.frombuffer(raw, dtype=DTYPES[e["dtype"]]) if raw else torch.empty(
            0, dtype=DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).clone()
    return out


def main():
    tensors = load(sys.argv[1])

    def part(layer, kind):
        prefix = f"{layer}.{kind}."
        items = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        return items if kind == "state" else [items[str(i)] for i in range(len(items))]

    failures = 0

    def check(layer, module, outputs, state_layer=None):
        nonlocal failures
        expected = part(layer, "out")
        worst = max((o.detach() - e).abs().max().item() for o, e in zip(outputs, expected))
        ok = len(outputs) == len(expected) and worst <= TOLERANCE
        failures += not ok
        names = len(part(state_layer or layer, "state"))
        print(f"{'ok  ' if ok else 'FAIL'} {layer}: {names} state-dict tensors loaded with "
              f"strict=True; largest |torch - eigrad| {worst:.1e} over {len(outputs)} outputs")

    def build(module, layer):
        module = module.double()
        module.load_state_dict(part(layer, "state"), strict=True)
        return module

    torch.manual_seed(0)
    nn = torch.nn
    m = build(nn.LSTM(10, 20), "lstm")
    x, h0, c0 = part("lstm", "in")
    out, (h, c) = m(x, (h0, c0))
    check("lstm", m, [out, h, c])

    m = build(nn.GRU(10, 20, num_layers=2, bidirectional=True, batch_first=True), "gru")
    x, h0 = part("gru", "in")
    out, h = m(x, h0)
    check("gru", m, [out, h])

    m = build(nn.RNN(4, 6, num_layers=2, nonlinearity="relu"), "rnn")
    (x,) = part("rnn", "in")
    out, h = m(x)
    check("rnn", m, [out, h])

    lc = build(nn.LSTMCell(6, 5), "lstm_cell")
    gc = build(nn.GRUCell(6, 5), "gru_cell")
    rc = build(nn.RNNCell(6, 5), "rnn_cell")
    x, h, c = part("cells", "in")
    h1, c1 = lc(x, (h, c))
    check("cells", None, [h1, c1, gc(x, h), rc(x, h)], state_layer="lstm_cell")

    m = build(nn.Embedding(10, 4, padding_idx=0), "embedding")
    (idx,) = part("embedding", "in")
    check("embedding", m, [m(idx)])

    m = build(nn.LayerNorm([3, 4]), "layer_norm")
    (x,) = part("layer_norm", "in")
    check("layer_norm", m, [m(x)])

    m = build(nn.MultiheadAttention(8, 2, batch_first=True), "mha")
    q, k, v, pad, mask = part("mha", "in")
    out, w = m(q, k, v, key_padding_mask=pad, need_weights=True, attn_mask=mask,
               average_attn_weights=False)
    check("mha", m, [out, w])

    for name, norm_first in (("encoder", False), ("encoder_norm_first", True)):
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=norm_first)
        m = build(nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8),
                                        enable_nested_tensor=False), name)
        m.eval()
        src, pad = part(name, "in")
        mask = torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1)
        check(name, m, [m(src, mask=mask, src_key_padding_mask=pad)])

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
