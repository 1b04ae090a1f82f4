#!/usr/bin/env python3
"""The constants of gaib's elementary functions (simulator/src/math.rs, and the same literals in
gpu-kernels/kernels/gaib_mc.cu): prints each one as the shortest decimal that round-trips to its
f64 (Rust and C++ both read such a literal back to exactly that f64).

- Tables and hi/lo splits: Python's `decimal` at 60 significant digits, each value rounded once to
  the nearest f64 (float(Decimal) rounds correctly); a "lo" part is the f64 nearest to the exact
  value minus its "hi" part.
- Polynomial coefficients: near-minimax (Chebyshev) fits by mpmath.chebyfit at 60 digits
  (`pip install mpmath`), each rounded to the nearest f64; the script prints the maximum error of
  the polynomial with the rounded coefficients over 2001 points of its interval.

Usage: python3 scripts/math_constants.py
"""
from decimal import Decimal, getcontext

import mpmath as mp

getcontext().prec = 60
mp.mp.dps = 60

LN2 = Decimal(2).ln()
EXP_N = 64  # table size of exp: x = (64k + j)·ln2/64 + r


def f64(d):
    return float(d)


def hi_lo(d, bits_quantum):
    """hi = d rounded to a multiple of 2^-bits_quantum (so that small integers times hi are
    exact), lo = the f64 nearest d - hi."""
    q = Decimal(2) ** bits_quantum
    hi = (d * q).to_integral_value() / q
    return f64(hi), f64(d - Decimal(f64(hi)))


def fit(f, a, b, deg):
    c = mp.chebyfit(f, [a, b], deg + 1)[::-1]
    cf = [float(x) for x in c]
    err = mp.mpf(0)
    for i in range(2001):
        t = a + (b - a) * mp.mpf(i) / 2000
        p = mp.mpf(0)
        for ci in reversed(cf):
            p = p * t + mp.mpf(ci)
        err = max(err, abs(p - f(t)))
    return cf, err


def show(name, values):
    print(f"{name} = [{', '.join(repr(v) for v in values)}]")


def main():
    # exp: 2^(j/64) = T_HI[j] + T_LO[j], j = 0..63.
    t = [Decimal(2) ** (Decimal(j) / EXP_N) for j in range(EXP_N)]
    show("EXP_T_HI", [f64(v) for v in t])
    show("EXP_T_LO", [f64(v - Decimal(f64(v))) for v in t])
    print("EXP_INV_STEP =", repr(f64(EXP_N / LN2)), "# 64/ln 2")
    # |64k + j| < 2^17 and the step's hi part has 36 significant bits: (64k + j)·hi is exact.
    print("EXP_STEP_HI, EXP_STEP_LO =", hi_lo(LN2 / EXP_N, 42), "# ln2/64")
    a = mp.log(2) / (2 * EXP_N) * (1 + mp.mpf(2) ** -20)
    cf, err = fit(lambda r: (mp.exp(r) - 1 - r) / r**2 if r else mp.mpf(1) / 2, -a, a, 3)
    show("EXP_P", cf)
    print(f"# (e^r - 1 - r)/r^2 on |r| <= ln2/128: max abs error {mp.nstr(err, 3)}")
    # ln: |k| <= 1075 (11 bits) and the hi part has 42 significant bits: k·hi is exact.
    print("LN2_HI, LN2_LO =", hi_lo(LN2, 42))
    zmax = ((mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)) ** 2 * (1 + mp.mpf(2) ** -20)
    h = lambda z: (2 * mp.atanh(mp.sqrt(z)) - 2 * mp.sqrt(z)) / (mp.sqrt(z) * z) if z else mp.mpf(2) / 3
    cf, err = fit(h, 0, zmax, 6)
    show("LN_P", cf)
    print(f"# (2 atanh(s) - 2s)/s^3 in z = s^2 <= {mp.nstr(zmax, 5)}: max abs error {mp.nstr(err, 3)}")
    # sin/cos of (pi/2)·x, |x| <= 1/2, in w = x^2.
    half_pi = Decimal(str(mp.pi / 2))
    print("SIN_S0_HI, SIN_S0_LO =", (f64(half_pi), f64(half_pi - Decimal(f64(half_pi)))), "# pi/2")
    s = lambda w: (mp.sin(mp.pi * mp.sqrt(w) / 2) / mp.sqrt(w) - mp.pi / 2) / w if w else -(mp.pi / 2) ** 3 / 6
    cf, err = fit(s, 0, mp.mpf(1) / 4, 5)
    show("SIN_P", cf)
    print(f"# (sin((pi/2)x)/x - pi/2)/x^2 in w = x^2 <= 1/4: max abs error {mp.nstr(err, 3)}")
    c = lambda w: (mp.cos(mp.pi * mp.sqrt(w) / 2) - 1) / w if w else -(mp.pi / 2) ** 2 / 2
    cf, err = fit(c, 0, mp.mpf(1) / 4, 6)
    show("COS_P", cf)
    print(f"# (cos((pi/2)x) - 1)/x^2 in w = x^2 <= 1/4: max abs error {mp.nstr(err, 3)}")


if __name__ == "__main__":
    main()
