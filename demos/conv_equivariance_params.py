"""What a conv layer computes: cross-correlation, shift equivariance, pooling, parameter count.

Random multi-channel images (objects on a zero background) go through `conv2d`, which is
compared with a cross-correlation and a true (flipped-kernel) convolution written out as loops
over the kernel offsets: it matches the first. Shifting the input shifts the feature map by the
same amount (equivariance), and a global max-pool of the feature map does not move at all;
the layer's parameter count is read from its tensors and compared with (k*k*C_in + 1) * C_out.
These are checks. The experiment is how much of that invariance a local p x p max-pool keeps:
the share of its outputs that stay unchanged in place after the input is shifted, for shifts
from 0 to twice the pool size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from demos._common import floats, fmt, generator, one_thread, setup
from studyapp.demo_api import (
    Answer,
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Question,
    Table,
    int_param,
)

Q_KEPT = Question(
    "kept",
    "After the input is shifted right and down, what share of the local max-pool's outputs "
    "stay unchanged in place?",
    ("all of them", "some (5% or more)", "almost none (under 5%)"),
)

SPEC = DemoSpec(
    id="conv_equivariance_params",
    title="Convolution: cross-correlation, equivariance, pooling, parameters",
    summary="Check conv2d against hand cross-correlation, shift its input, pool, count parameters.",
    topics=(
        "convolution vs cross-correlation",
        "equivariance",
        "pooling invariance",
        "parameter counts",
        "channels",
    ),
    params=(
        int_param("kernel", 3, 2, 7, "kernel size k (k x k)"),
        int_param("shift", 1, 0, 8, "pixels the input is shifted right and down"),
        int_param("pool", 2, 2, 4, "window (and stride) of the local max-pool"),
        int_param("in_channels", 3, 1, 8, "input channels C_in"),
        int_param("out_channels", 4, 1, 16, "output channels (filters) C_out"),
    ),
    tiny={"in_channels": 2, "out_channels": 2},
    questions=(Q_KEPT,),
    timeout_s=30,
)

OBJECT = 8  # side of the non-zero patch in each input
IMAGES = 16  # random objects the pooling shares are measured over
TOLERANCE = 1e-12  # float64 agreement that counts as "equal"
SOME = 0.05  # "some" outputs kept in place: at least this share
# Layer shapes whose parameter count is also checked, beside the one set by the knobs.
EXTRA_LAYERS = ((1, 1, 3), (3, 64, 3), (64, 128, 3), (128, 256, 5))


def _images(params: Mapping[str, Any], seed: int, reach: int) -> Any:
    """Objects of random values on a zero background, with room to shift by `reach` pixels
    without wrapping around."""
    import torch

    margin = params["kernel"] + reach + 1
    side = OBJECT + 2 * margin
    x = torch.zeros(IMAGES, params["in_channels"], side, side, dtype=torch.float64)
    patches = torch.randn(
        IMAGES, params["in_channels"], OBJECT, OBJECT, generator=generator(seed)
    ).double()
    x[:, :, margin : margin + OBJECT, margin : margin + OBJECT] = patches
    return x


def _correlate(x: Any, weight: Any, bias: Any) -> Any:
    """out[n, o, i, j] = bias[o] + sum over c, u, v of x[n, c, i+u, j+v] * weight[o, c, u, v]."""
    import torch

    k = weight.shape[-1]
    rows, cols = x.shape[-2] - k + 1, x.shape[-1] - k + 1
    out = bias.view(1, -1, 1, 1).expand(x.shape[0], -1, rows, cols).clone()
    for u in range(k):
        for v in range(k):
            window = x[:, :, u : u + rows, v : v + cols]
            out += torch.einsum("nchw,oc->nohw", window, weight[:, :, u, v])
    return out


def _param_count(c_in: int, c_out: int, k: int) -> tuple[int, int]:
    """(numel of a real Conv2d, the formula (k*k*C_in + 1) * C_out)."""
    import torch

    layer = torch.nn.Conv2d(c_in, c_out, k, device="meta")
    return sum(p.numel() for p in layer.parameters()), (k * k * c_in + 1) * c_out


def _kept(a: Any, b: Any, bias: Any, p: int) -> float:
    """Share of p x p max-pool outputs left unchanged in place, among those an object reaches
    (cells holding only background are the bias in both maps and do not count). p = 1 is the
    feature map itself."""
    import torch

    pa = torch.nn.functional.max_pool2d(a, p) if p > 1 else a
    pb = torch.nn.functional.max_pool2d(b, p) if p > 1 else b
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
    shifts = list(range(max(2 * p, s) + 1))
    x = _images(params, seed, shifts[-1])

    def conv(img: Any) -> Any:
        return functional.conv2d(img, weight, bias)

    def shifted(t: Any, by: int) -> Any:
        return torch.roll(t, shifts=(by, by), dims=(-2, -1))

    y = conv(x)
    corr_diff = _max_diff(y, _correlate(x, weight, bias))
    flip_diff = _max_diff(y, _correlate(x, weight.flip(-2, -1), bias))
    progress(0.3, "conv2d compared with loops", None)

    maps = {by: conv(shifted(x, by)) for by in shifts}
    equi_diff = max(_max_diff(maps[by], shifted(y, by)) for by in shifts)
    global_diff = max(_max_diff(maps[by].amax(dim=(-2, -1)), y.amax(dim=(-2, -1))) for by in shifts)
    kept = {size: [_kept(maps[by], y, bias, size) for by in shifts] for size in (1, p)}
    peaks = y.amax(dim=(-2, -1))
    global_kept = [(maps[by].amax(dim=(-2, -1)) == peaks).double().mean().item() for by in shifts]
    progress(0.6, "shift tests done", None)

    layers = [(c_in, c_out, k), *EXTRA_LAYERS]
    counts = [_param_count(*shape) for shape in layers]
    counts_match = all(n == formula for n, formula in counts)
    progress(1.0, "parameters counted", None)

    pooled = kept[p]
    at_shift, at_pool = pooled[s], pooled[p]
    beyond = max(pooled[p:])
    claims = [
        _pool_claim(p, s, at_shift, at_pool, beyond),
        Claim.check(
            f"conv2d is cross-correlation: it matches the unflipped-kernel sum to "
            f"{fmt(corr_diff)} (needs <= {fmt(TOLERANCE)}), and differs from the "
            f"flipped-kernel convolution by {fmt(flip_diff)}",
            corr_diff <= TOLERANCE < flip_diff,
        ),
        Claim.check(
            f"Shifting the input shifts the feature map by as much, for every shift from 0 to "
            f"{shifts[-1]}: max difference {fmt(equi_diff)} (needs <= {fmt(TOLERANCE)})",
            equi_diff <= TOLERANCE,
        ),
        Claim.check(
            f"Global max-pool is shift-invariant: its {c_out} outputs change by "
            f"{fmt(global_diff)} over all those shifts (needs <= {fmt(TOLERANCE)})",
            global_diff <= TOLERANCE,
        ),
        Claim.check(
            f"Parameters = (k*k*C_in + 1) x C_out for all {len(layers)} layers, e.g. "
            f"k={k}, C_in={c_in}, C_out={c_out}: numel {counts[0][0]} = "
            f"({k}*{k}*{c_in} + 1) x {c_out} = {counts[0][1]}",
            counts_match,
        ),
    ]
    option = (
        Q_KEPT.options[0]
        if at_shift == 1.0
        else Q_KEPT.options[1]
        if at_shift >= SOME
        else Q_KEPT.options[2]
    )
    answers = {
        Q_KEPT.id: Answer(
            option,
            f"After a shift of ({s}, {s}), {at_shift:.0%} of the {p}x{p} max-pool's outputs on "
            "the objects are unchanged in place.",
        )
    }
    rows: list[tuple[Any, ...]] = [
        ("conv2d vs hand cross-correlation (max diff)", float(f"{corr_diff:.3g}")),
        ("conv2d vs flipped-kernel convolution (max diff)", float(f"{flip_diff:.3g}")),
        (f"conv(shift x) vs shift(conv x), shifts 0 to {shifts[-1]}", float(f"{equi_diff:.3g}")),
        ("global max-pool change over those shifts", float(f"{global_diff:.3g}")),
        (f"{p}x{p} max-pool outputs unchanged in place, shift {s}", round(at_shift, 3)),
        (f"{p}x{p} max-pool outputs unchanged in place, shift {p}", round(at_pool, 3)),
        (f"feature-map values unchanged in place, shift {s}", round(kept[1][s], 3)),
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
        "pool_kept_at_shift": at_shift,
        "pool_kept_at_pool_size": at_pool,
        "pool_kept_beyond_pool_size": beyond,
        "map_kept_at_shift": kept[1][s],
    }
    xs = [float(by) for by in shifts]
    series = {
        f"{p}x{p} max-pool": {"x": xs, "y": floats(pooled, 4)},
        "feature map (no pooling)": {"x": xs, "y": floats(kept[1], 4)},
        "global max-pool": {"x": xs, "y": floats(global_kept, 4)},
    }
    return DemoOutput(
        series=series,
        table=Table.of(["check", "value"], rows),
        metrics=metrics,
        claims=claims,
        setup=(
            f"{IMAGES} objects of {OBJECT}x{OBJECT} random values with {c_in} channels on a "
            f"zero background go through one Conv2d({c_in}, {c_out}, {k}) in float64; each is "
            "shifted right and down by the same number of pixels."
        ),
        answers=answers,
        plot=PlotSpec(
            title="outputs unchanged in place after a shift",
            x_label="shift (pixels right and down)",
            y_label="share unchanged",
        ),
    )


def _pool_claim(p: int, s: int, at_shift: float, at_pool: float, beyond: float) -> Claim:
    numbers = (
        f"{at_shift:.0%} of its outputs on the objects stay in place after a shift of ({s}, "
        f"{s}), {at_pool:.0%} after a shift of ({p}, {p})"
    )
    rest = f"no shift of {p} or more keeps over {beyond:.0%}"
    lesson = (
        f"Local max-pooling absorbs small shifts only in part: {numbers}, and {rest}. Only the "
        "global max-pool ignores every shift."
    )
    if s == 0:
        lesson = (
            f"Unshifted, every output of the {p}x{p} max-pool stays in place, but {rest}: local "
            "pooling does not absorb a shift as large as its window. Only the global max-pool "
            "ignores every shift."
        )
    return Claim.experiment(
        f"A {p}x{p} max-pool absorbs part of a shift of ({s}, {s}): {numbers}",
        at_shift >= SOME and at_shift >= at_pool + SOME,
        lesson=lesson,
        otherwise=(
            f"A shift of {s} moved almost every output of the {p}x{p} max-pool: {numbers}, and "
            f"{rest}. Only the global max-pool ignores every shift."
        ),
    )
