#!/usr/bin/env python3
"""The coefficients of kernels::detail::ptanh_float (include/eigrad/kernels/sigmoid.hpp).

Needs mpmath only. Prints, with float32 coefficients (highest degree first, as C hex literals):
- P, a degree-5 fit in w = a^2 on [0, 0.7^2] of (tanh(a) - a) / a^3, and the largest relative
  error of a + a^3 P(a^2) against tanh(a) on [0, 0.7] in units of 2^-24 (exact arithmetic);
- Q, a degree-6 fit in r on [-ln2 / 4, ln2 / 4] of exp(2 r), and its largest relative error.
Both are Chebyshev interpolations (mpmath.chebyfit), near enough to minimax at these degrees;
rounding the coefficients to float dominates the error that is left.
"""
import struct

import mpmath as mp

mp.mp.dps = 50


def f32(v):
    return struct.unpack("f", struct.pack("f", float(v)))[0]


def horner(coefficients, v):
    p = mp.mpf(0)
    for c in coefficients:
        p = p * v + c
    return p


def fit(f, lo, hi, degree):
    poly, _ = mp.chebyfit(f, [lo, hi], degree + 1, error=True)
    return [f32(c) for c in poly]


def main():
    switch = mp.mpf("0.7")
    p = fit(lambda w: (mp.tanh(mp.sqrt(w)) - mp.sqrt(w)) / w ** mp.mpf(1.5), 0, switch**2, 5)
    worst = max(
        abs((a + a**3 * horner(p, a * a)) / mp.tanh(a) - 1)
        for a in (switch * i / 4000 for i in range(1, 4001)))
    print("P:", ", ".join(float.hex(c) for c in p), f"  tanh within {float(worst) * 2**24:.3f} 2^-24")
    h = mp.log(2) / 4
    q = fit(lambda r: mp.exp(2 * r), -h, h, 6)
    worst = max(abs(horner(q, r) / mp.exp(2 * r) - 1) for r in (h * i / 4000 for i in range(-4000, 4001)))
    print("Q:", ", ".join(float.hex(c) for c in q), f"  within {float(worst) * 2**24:.3f} 2^-24")
    print("ln2 / 2:", float.hex(f32(mp.log(2) / 2)), " 2 / ln2:", float.hex(f32(2 / mp.log(2))))


if __name__ == "__main__":
    main()
