"""What a conv layer computes: cross-correlation, shift equivariance, pooling, parameter count.

A random multi-channel image (an object on a zero background) goes through `conv2d`, which is
compared with a cross-correlation and a true (flipped-kernel) convolution written out as loops
over the kernel offsets: it matches the first. Shifting the input shifts the feature map by the
same amount (equivariance); a global max-pool of the feature map does not move at all
(invariance), while a local max-pool keeps only part of its values. Finally, the layer's
parameter count is read from the tensors and compared with (k*k*C_in + 1) * C_out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from demos._common import floats, fmt, generator, one_thread, setup
from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    int_param,
)

SPEC = DemoSpec(
    id="conv_equivariance_params",
    title="Convolution: cross-correlation, equivariance, pooling, parameters",
    summary="Check conv2d against hand cross-correlation, shift its input, count its parameters.",
    topics=(
        "convolution vs cross-correlation",
        "equivariance",
        "pooling invariance",
        "parameter counts",
        "channels",
    ),
    params=(
        int_param("kernel", 3, 2, 7, "kernel size k (k x k)"),
        int_param("shift", 3, 0, 8, "pixels the input is shifted right and down"),
        int_param("pool", 2, 2, 4, "window (and stride) of the local max-pool"),
        int_param("in_channels", 3, 1, 8, "input channels C_in"),
        int_param("out_channels", 4, 1, 16, "output channels (filters) C_out"),
    ),
    tiny={"in_channels": 2, "out_channels": 2},
    timeout_s=30,
)

OBJECT = 6  # side of the non-zero patch in the input
TOLERANCE = 1e-12  # float64 agreement that counts as "equal"
# Layer shapes whose parameter count is also checked, beside the one set by the knobs.
EXTRA_LAYERS = ((1, 1, 3), (3, 64, 3), (64, 128, 3), (128, 256, 5))


def _image(params: Mapping[str, Any], seed: int) -> Any:
    """An object of random values on a zero background, with room to shift without wrapping."""
    import torch

    margin = params["kernel"] + params["shift"] + 1
    side = OBJECT + 2 * margin
    x = torch.zeros(1, params["in_channels"], side, side, dtype=torch.float64)
    patch = torch.randn(params["in_channels"], OBJECT, OBJECT, generator=generator(seed))
    x[0, :, margin : margin + OBJECT, margin : margin + OBJECT] = patch.double()
    return x


def _correlate(x: Any, weight: Any, bias: Any) -> Any:
    """out[o, i, j] = bias[o] + sum over c, u, v of x[c, i+u, j+v] * weight[o, c, u, v]."""
    import torch

    k = weight.shape[-1]
    rows, cols = x.shape[-2] - k + 1, x.shape[-1] - k + 1
    out = bias.view(-1, 1, 1).expand(-1, rows, cols).clone()
    for u in range(k):
        for v in range(k):
            window = x[0, :, u : u + rows, v : v + cols]
            out += torch.einsum("chw,oc->ohw", window, weight[:, :, u, v])
    return out.unsqueeze(0)


def _param_count(c_in: int, c_out: int, k: int) -> tuple[int, int]:
    """(numel of a real Conv2d, the formula (k*k*C_in + 1) * C_out)."""
    import torch

    layer = torch.nn.Conv2d(c_in, c_out, k, device="meta")
    return sum(p.numel() for p in layer.parameters()), (k * k * c_in + 1) * c_out


def _pool_kept(a: Any, b: Any, bias: Any, p: int) -> float:
    """Fraction of local max-pool outputs left unchanged in place, among those the object
    reaches (cells holding only background are the bias in both maps and would not count)."""
    import torch

    pa = torch.nn.functional.max_pool2d(a, p)
    pb = torch.nn.functional.max_pool2d(b, p)
    background = bias.view(1, -1, 1, 1)
    reached = (pa != background) | (pb != background)
    return ((pa == pb) & reached).sum().item() / max(1, reached.sum().item())


def _max_diff(a: Any, b: Any) -> float:
    return (a - b).abs().max().item()


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, _ = setup(seed)
    functional = torch.nn.functional
    k, s, p = params["kernel"], params["shift"], params["pool"]
    c_in, c_out = params["in_channels"], params["out_channels"]
    layer = torch.nn.Conv2d(c_in, c_out, k).double()
    weight, bias = layer.weight.detach(), layer.bias.detach()
    x = _image(params, seed)

    def conv(img: Any) -> Any:
        return functional.conv2d(img, weight, bias)

    def shifted(t: Any, by: int) -> Any:
        return torch.roll(t, shifts=(by, by), dims=(-2, -1))

    y = conv(x)
    corr_diff = _max_diff(y, _correlate(x, weight, bias))
    flip_diff = _max_diff(y, _correlate(x, weight.flip(-2, -1), bias))
    progress(0.3, "conv2d compared with loops", None)

    y_shift = conv(shifted(x, s))
    equi_diff = _max_diff(y_shift, shifted(y, s))
    global_diff = _max_diff(y_shift.amax(dim=(-2, -1)), y.amax(dim=(-2, -1)))
    kept = {by: _pool_kept(conv(shifted(x, by)), y, bias, p) for by in sorted({1, s})}
    progress(0.6, "shift tests done", None)

    layers = [(c_in, c_out, k), *EXTRA_LAYERS]
    counts = [_param_count(*shape) for shape in layers]
    counts_match = all(n == formula for n, formula in counts)
    progress(1.0, "parameters counted", None)

    claims = [
        Claim(
            f"conv2d is cross-correlation: it matches the unflipped-kernel sum to "
            f"{fmt(corr_diff)} (needs <= {fmt(TOLERANCE)}), and differs from the "
            f"flipped-kernel convolution by {fmt(flip_diff)}",
            corr_diff <= TOLERANCE < flip_diff,
        ),
        Claim(
            f"Shifting the input by ({s}, {s}) shifts the feature map by ({s}, {s}): "
            f"max difference {fmt(equi_diff)} (needs <= {fmt(TOLERANCE)})",
            equi_diff <= TOLERANCE,
        ),
        Claim(
            f"Global max-pool is shift-invariant: its {c_out} outputs change by "
            f"{fmt(global_diff)} after the shift (needs <= {fmt(TOLERANCE)})",
            global_diff <= TOLERANCE,
        ),
        Claim(
            f"Parameters = (k*k*C_in + 1) x C_out for all {len(layers)} layers, e.g. "
            f"k={k}, C_in={c_in}, C_out={c_out}: numel {counts[0][0]} = "
            f"({k}*{k}*{c_in} + 1) x {c_out} = {counts[0][1]}",
            counts_match,
        ),
    ]
    rows: list[tuple[Any, ...]] = [
        ("conv2d vs hand cross-correlation (max diff)", float(f"{corr_diff:.3g}")),
        ("conv2d vs flipped-kernel convolution (max diff)", float(f"{flip_diff:.3g}")),
        (f"conv(shift x) vs shift(conv x), shift {s}", float(f"{equi_diff:.3g}")),
        ("global max-pool change after shift", float(f"{global_diff:.3g}")),
    ]
    rows += [
        (f"{p}x{p} max-pool outputs on the object unchanged, shift {by}", round(frac, 3))
        for by, frac in kept.items()
    ]
    rows += [
        (f"params of Conv2d({ci}, {co}, {kk}): numel / formula", f"{n} / {formula}")
        for (ci, co, kk), (n, formula) in zip(layers, counts, strict=True)
    ]
    metrics = {
        "max_diff_cross_correlation": corr_diff,
        "max_diff_flipped_convolution": flip_diff,
        "max_diff_equivariance": equi_diff,
        "max_diff_global_pool": global_diff,
        "param_count": float(counts[0][0]),
        "param_formula": float(counts[0][1]),
        "param_counts_match": 1.0 if counts_match else 0.0,
    }
    metrics |= {f"local_pool_unchanged_shift_{by}": frac for by, frac in kept.items()}
    r_in = (x.shape[-1] - OBJECT) // 2 + OBJECT // 2
    r_out = r_in - (k - 1) // 2
    centres = [j + (k - 1) / 2 for j in range(y.shape[-1])]
    series = {
        "input row (channel 0)": floats(x[0, 0, r_in]),
        "feature map row (filter 0)": {"x": centres, "y": floats(y[0, 0, r_out])},
        f"feature map row, input shifted by {s}": {
            "x": centres,
            "y": floats(y_shift[0, 0, r_out + s]),
        },
    }
    return DemoOutput(
        series=series,
        table=Table.of(["check", "value"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"A conv layer slides one unflipped {k}x{k} filter bank over the image, so a shift "
            f"of {s} pixels moves its feature map by {s} (error {fmt(equi_diff)}), global pooling "
            f"removes the shift, and the layer needs only {counts[0][0]} parameters however "
            f"large the image."
        ),
        plot=PlotSpec(title="one row through the object", x_label="column", y_label="value"),
    )
