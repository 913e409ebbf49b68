#!/usr/bin/python3
"""PyTorch's float32 accuracy, in ulps, for every activation of eigrad's catalogue.

Sweeps the same float32 grid as tests/test_activation_accuracy.cpp (keep the two in step) and
prints, per activation, the largest error of PyTorch's float32 forward and of its derivative
(autograd, gradient 1), with the x where it occurs, against mpmath at 113 bits.

    /usr/bin/python3 scripts/activation_ulps.py            (Debian: python3-torch python3-mpmath)

Grid: (i - 12000) / 1000 for i = 0..24000 (rounded to float32); +-m 2^e for m in {1, 1.25, 1.5,
1.75} and e = -149..127 (tiny values, denormals and the tails up to FLT_MAX); +-{15, 20, 30, 50,
88, 88.7, 89, 100, 1e4, 1e30, FLT_MAX}; each kink and the 4 floats on either side of it.

ulps: |y - ref| / ulp(ref), ulp(r) the float32 spacing at |r|: 2^(floor(log2 |r|) - 23) for
|r| >= 2^-126, and 2^-149 below (so a reference that is 0 or denormal is measured in denormal
steps). Where |ref| > FLT_MAX the right float32 answer is inf of ref's sign: 0 ulps if y is that,
else inf. NaN, or inf for a finite reference, is inf ulps.

softmax and log_softmax are taken on the pair [x, 0], output 0, with gradient [1, 0]: sigmoid(x)
and log(sigmoid(x)), derivatives sigmoid'(x) and 1 - sigmoid(x). prelu has one slope, 0.25
(nn.PReLU's default), and its derivative is taken with respect to x.
"""
import math
import sys

import mpmath as mp
import numpy as np
import torch
import torch.nn.functional as F

mp.mp.prec = 113
FLT_MAX = float(np.finfo(np.float32).max)


def grid(kinks):
    xs = [(i - 12000) / 1000 for i in range(24001)]
    for e in range(-149, 128):
        for m in (1, 1.25, 1.5, 1.75):
            v = m * 2.0**e
            if v <= FLT_MAX:
                xs += [v, -v]
    for v in (15, 20, 30, 50, 88, 88.7, 89, 100, 1e4, 1e30, FLT_MAX):
        xs += [v, -v]
    pts = np.array(xs, dtype=np.float32)
    extra = []
    for k in kinks:
        up = down = np.float32(k)
        extra.append(up)
        for _ in range(4):
            up = np.nextafter(up, np.float32(np.inf))
            down = np.nextafter(down, np.float32(-np.inf))
            extra += [up, down]
    return np.concatenate([pts, np.array(extra, dtype=np.float32)])


def ulps(y, ref):
    """y: float32, ref: mpf. The error of y in float32 ulps of ref (see the docstring)."""
    if math.isnan(y):
        return math.inf
    if abs(ref) > FLT_MAX:
        return 0.0 if math.isinf(y) and (y > 0) == (ref > 0) else math.inf
    if math.isinf(y):
        return math.inf
    r = abs(ref)
    e = -126 if r < mp.ldexp(1, -126) else int(mp.floor(mp.log(r, 2)))
    # guard floor(log2) against rounding at a power of two
    if e > -126 and r < mp.ldexp(1, e):
        e -= 1
    if e > -126 and r >= mp.ldexp(1, e + 1):
        e += 1
    return float(abs(mp.mpf(float(y)) - ref) / mp.ldexp(1, e - 23))


def sig(x):
    return 1 / (1 + mp.exp(-x))


def dsig(x):
    s = sig(x)
    return s * (1 - s)


def softplus(x):
    return x + mp.log1p(mp.exp(-x)) if x > 0 else mp.log1p(mp.exp(x))


SELU_A = mp.mpf("1.6732632423543772848170429916717")
SELU_S = mp.mpf("1.0507009873554804934193349852946")
K = mp.sqrt(2 / mp.pi)


def phi(x):
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def Phi(x):
    return mp.erfc(-x / mp.sqrt(2)) / 2


def gelu_tanh_s(x):  # (1 + tanh u) / 2 = sigmoid(2 u)
    return sig(2 * K * (x + mp.mpf("0.044715") * x**3))


def gelu_tanh_d(x):
    u = K * (x + mp.mpf("0.044715") * x**3)
    s = sig(2 * u)
    return s + x * 2 * s * (1 - s) * K * (1 + 3 * mp.mpf("0.044715") * x * x)


def mish_d(x):
    t = mp.tanh(softplus(x))
    return t + x * (1 - t * t) * sig(x)


sixth = mp.mpf(1) / 6
SLOPE = mp.mpf(float(np.float32(0.01)))
# name: (torch forward, reference f, reference f' (PyTorch 1.13's convention at kinks), kinks)
ENTRIES = {
    "sigmoid": (torch.sigmoid, sig, dsig, []),
    "hard_sigmoid": (F.hardsigmoid, lambda x: min(max(x / 6 + mp.mpf(1) / 2, 0), 1),
                     lambda x: sixth if -3 < x < 3 else 0, [-3, 3]),
    "tanh": (torch.tanh, mp.tanh, lambda x: 1 / mp.cosh(x) ** 2, []),
    "relu": (F.relu, lambda x: max(x, 0), lambda x: 1 if x > 0 else 0, [0]),
    "relu6": (F.relu6, lambda x: min(max(x, 0), 6), lambda x: 1 if 0 < x < 6 else 0, [0, 6]),
    # the slope as float32 sees it, 0.01f, in both
    "leaky_relu": (F.leaky_relu, lambda x: x if x > 0 else SLOPE * x,
                   lambda x: 1 if x > 0 else SLOPE, [0]),
    "elu": (F.elu, lambda x: x if x > 0 else mp.expm1(x), lambda x: 1 if x > 0 else mp.exp(x), [0]),
    "selu": (torch.selu, lambda x: SELU_S * (x if x > 0 else SELU_A * mp.expm1(x)),
             lambda x: SELU_S * (1 if x > 0 else SELU_A * mp.exp(x)), [0]),
    "celu": (F.celu, lambda x: x if x > 0 else mp.expm1(x), lambda x: 1 if x > 0 else mp.exp(x), [0]),
    "gelu": (F.gelu, lambda x: x * Phi(x), lambda x: Phi(x) + x * phi(x), []),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: x * gelu_tanh_s(x),
                  gelu_tanh_d, []),
    "softplus": (F.softplus, softplus, sig, [20]),
    "softsign": (F.softsign, lambda x: x / (1 + abs(x)), lambda x: 1 / (1 + abs(x)) ** 2, []),
    "swish": (F.silu, lambda x: x * sig(x), lambda x: sig(x) + x * dsig(x), []),
    "hardswish": (F.hardswish, lambda x: 0 if x <= -3 else x if x >= 3 else x * (x + 3) / 6,
                  lambda x: 0 if x < -3 else 1 if x > 3 else x / 3 + mp.mpf(1) / 2, [-3, 3]),
    "mish": (F.mish, lambda x: x * mp.tanh(softplus(x)), mish_d, []),
    "softmax": (lambda x: torch.softmax(torch.stack([x, torch.zeros_like(x)], 1), 1)[:, 0],
                sig, dsig, []),
    "log_softmax": (lambda x: torch.log_softmax(torch.stack([x, torch.zeros_like(x)], 1), 1)[:, 0],
                    lambda x: -softplus(-x), lambda x: sig(-x), []),
    "prelu": (lambda x: F.prelu(x, torch.tensor([0.25])), lambda x: x if x > 0 else x / 4,
              lambda x: 1 if x > 0 else mp.mpf(1) / 4, [0]),
}


def worst(values, refs, xs):
    best = (-1.0, math.nan)
    for y, r, x in zip(values, refs, xs):
        u = ulps(float(y), r)
        if u > best[0]:
            best = (u, float(x))
    return best


def main(names):
    torch.set_num_threads(1)
    print(f"PyTorch {torch.__version__} float32, max ulps (at x) on the grid; mpmath reference")
    print(f"{'activation':<13} {'forward ulps':>12} {'at x':>13}   {'derivative ulps':>15} {'at x':>13}")
    for name, (fn, f, df, kinks) in ENTRIES.items():
        if names and name not in names:
            continue
        xs = grid(kinks)
        x = torch.tensor(xs, requires_grad=True)
        y = fn(x)
        y.backward(torch.ones_like(y))
        ys, gs = y.detach().numpy(), x.grad.numpy()
        mx = [mp.mpf(float(v)) for v in xs]
        fwd = worst(ys, [f(v) for v in mx], xs)
        der = worst(gs, [mp.mpf(df(v)) for v in mx], xs)
        print(f"{name:<13} {fwd[0]:>12.7g} {fwd[1]:>13.7g}   {der[0]:>15.7g} {der[1]:>13.7g}",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
