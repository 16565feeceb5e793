"""Data augmentation: each kind helps only with the variation it imitates, and only if it keeps
the label.

Eight glyph classes (bars, plus, cross, box, slash, backslash, corner) are drawn in code, always
centred and evenly lit in the training set. A small CNN whose last layer reads a
position-dependent feature map is trained on them plainly, and again, from the same start and
on the same batches, once for each augmentation switched on, each on its own: random shifts
(random crop of a zero-padded image), random horizontal flips, and random brightness and
contrast (jitter). Every net is scored on three held-out test sets: centred glyphs like the
training set, glyphs shifted by up to a few pixels, and washed-out glyphs (lower contrast on a
brighter background). The run reports what each augmentation did on the test set it imitates,
and what flipping does to slashes and backslashes, which are mirror images of each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from demos._common import floats, fmt, generator, one_thread, report_every, setup
from studyapp.demo_api import (
    Answer,
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Question,
    Table,
    bool_param,
    device_param,
    float_param,
    int_param,
)

SHIFTED, WASHED, NEITHER = (
    "The shifted glyphs",
    "The washed-out glyphs",
    "Neither: within 0.05 of each other",
)

SPEC = DemoSpec(
    id="augmentation_shapes",
    title="Data augmentation on shifted and washed-out glyphs",
    summary="Train a small CNN plainly and with each augmentation alone; test on new variations.",
    topics=("data augmentation", "flip", "crop", "color jitter", "geometric transforms"),
    params=(
        bool_param("shift", True, "also train a net on randomly shifted copies"),
        bool_param("flip", False, "also train a net on randomly mirrored copies"),
        bool_param("jitter", False, "also train a net on copies with random brightness/contrast"),
        int_param("max_shift", 4, 1, 4, "largest test-set shift (and augmentation shift), px"),
        int_param("per_class", 64, 8, 200, "training images per class"),
        int_param("epochs", 10, 1, 40, "passes over the training set"),
        float_param("lr", 0.01, 1e-4, 0.05, "Adam learning rate", log_scale=True),
        device_param(),
    ),
    tiny={"per_class": 16, "epochs": 8, "max_shift": 2},
    timeout_s=60,
    questions=(
        Question(
            "plain_worst",
            "The plain net learned only from clean, centred glyphs. Which test images does it "
            "read worse?",
            (SHIFTED, WASHED, NEITHER),
        ),
    ),
)

CANVAS, GLYPH = 16, 8
CLASSES = ("hbar", "vbar", "plus", "cross", "box", "slash", "backslash", "corner")
MIRRORED = (CLASSES.index("slash"), CLASSES.index("backslash"))
TEST_PER_CLASS = 40
BATCH = 32
NOISE = 0.15
GAIN = 0.1  # an augmentation "helps" when it raises its test set's accuracy by this much
DROP = 0.1  # a test set "trips up" the plain net when accuracy falls this much from centred
CONFUSE = 0.2  # flips "cost" the mirrored classes when their accuracy falls this much
SAME = 0.05
LEARNED = 0.5  # below this accuracy on centred glyphs the plain net has hardly learned them
# Washed-out test images: glyph * contrast + brightness, drawn uniformly from these ranges.
WASHED_CONTRAST, WASHED_BRIGHTNESS = (0.3, 1.0), (0.2, 1.0)
# Jitter draws from ranges that cover the washed-out ones and reach a little beyond.
JITTER_CONTRAST, JITTER_BRIGHTNESS = (0.3, 1.3), (-0.2, 1.0)
AUGMENTATIONS = ("shift", "flip", "jitter")


def _glyphs() -> Any:
    """One centred image per class, values 0/1, shape (classes, CANVAS, CANVAS)."""
    import torch

    g = torch.zeros(len(CLASSES), GLYPH, GLYPH)
    mid = slice(GLYPH // 2 - 1, GLYPH // 2 + 1)
    offset = torch.arange(GLYPH)[None, :] - torch.arange(GLYPH)[:, None]
    eye = ((offset >= 0) & (offset <= 1)).float()  # a diagonal two pixels thick
    g[0, mid, :] = 1
    g[1, :, mid] = 1
    g[2, mid, :] = 1
    g[2, :, mid] = 1
    g[3] = (eye + eye.flip(1)).clamp(max=1.0)
    g[4, [0, -1], :] = 1
    g[4, :, [0, -1]] = 1
    g[5] = eye.flip(1)
    g[6] = eye
    g[7, :, :2] = 1
    g[7, -2:, :] = 1
    out = torch.zeros(len(CLASSES), CANVAS, CANVAS)
    lo = (CANVAS - GLYPH) // 2
    out[:, lo : lo + GLYPH, lo : lo + GLYPH] = g
    return out


def _shift(x: Any, dy: Any, dx: Any) -> Any:
    """Move each image of x (B, 1, H, W) down dy and right dx pixels, filling with zeros."""
    import torch

    b, _, h, w = x.shape
    m = CANVAS
    padded = torch.nn.functional.pad(x, (m, m, m, m))
    rows = torch.arange(h, device=x.device)[None, :] - dy[:, None] + m
    cols = torch.arange(w, device=x.device)[None, :] - dx[:, None] + m
    batch = torch.arange(b, device=x.device)[:, None, None]
    return padded[batch, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


def _relight(x: Any, contrast: tuple[float, float], brightness: tuple[float, float], g: Any) -> Any:
    """x * c + b per image, with c and b drawn uniformly from their ranges."""
    import torch

    n = x.shape[0]
    c = contrast[0] + (contrast[1] - contrast[0]) * torch.rand(n, 1, 1, 1, generator=g)
    b = brightness[0] + (brightness[1] - brightness[0]) * torch.rand(n, 1, 1, 1, generator=g)
    return x * c.to(x.device) + b.to(x.device)


def _dataset(per_class: int, max_shift: int, g: Any) -> tuple[Any, Any]:
    """Noisy glyph images with labels; glyphs moved by up to max_shift pixels (0 = centred)."""
    import torch

    labels = torch.arange(len(CLASSES)).repeat_interleave(per_class)
    x = _glyphs()[labels].unsqueeze(1)
    n = labels.numel()
    dy = torch.randint(-max_shift, max_shift + 1, (n,), generator=g)
    dx = torch.randint(-max_shift, max_shift + 1, (n,), generator=g)
    x = _shift(x, dy, dx) * (0.7 + 0.3 * torch.rand(n, 1, 1, 1, generator=g))
    return x + NOISE * torch.randn(x.shape, generator=g), labels


def _augment(x: Any, kind: str, max_shift: int, g: Any) -> Any:
    import torch

    n = x.shape[0]
    if kind == "shift":
        dy = torch.randint(-max_shift, max_shift + 1, (n,), generator=g).to(x.device)
        dx = torch.randint(-max_shift, max_shift + 1, (n,), generator=g).to(x.device)
        return _shift(x, dy, dx)
    if kind == "flip":
        flip = (torch.rand(n, 1, 1, 1, generator=g) < 0.5).to(x.device)
        return torch.where(flip, x.flip(-1), x)
    return _relight(x, JITTER_CONTRAST, JITTER_BRIGHTNESS, g)


def _model() -> Any:
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(16 * (CANVAS // 4) ** 2, len(CLASSES)),
    )


def _accuracy(model: Any, x: Any, y: Any) -> tuple[float, Any]:
    """Overall accuracy and the per-class accuracy tensor."""
    import torch

    with torch.no_grad():
        hit = (model(x).argmax(1) == y).float()
    per_class = torch.zeros(len(CLASSES), device=x.device).index_add_(0, y, hit)
    return hit.mean().item(), (per_class / torch.bincount(y, minlength=len(CLASSES))).cpu()


def _mirrored_share(per_class: Any) -> float:
    return float(per_class[list(MIRRORED)].mean())


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    g = generator(seed)
    m = params["max_shift"]
    x_train, y_train = _dataset(params["per_class"], 0, g)
    x_centre, y_centre = _dataset(TEST_PER_CLASS, 0, g)
    x_shift, y_shift = _dataset(TEST_PER_CLASS, m, g)
    x_washed, y_washed = _dataset(TEST_PER_CLASS, 0, g)
    x_washed = _relight(x_washed, WASHED_CONTRAST, WASHED_BRIGHTNESS, g)
    tests = {
        "centred": (x_centre.to(device), y_centre.to(device)),
        "shifted": (x_shift.to(device), y_shift.to(device)),
        "washed-out": (x_washed.to(device), y_washed.to(device)),
    }
    x_train, y_train = x_train.to(device), y_train.to(device)
    start = {k: v.clone() for k, v in _model().to(device).state_dict().items()}

    nets = ["plain", *(a for a in AUGMENTATIONS if params[a])]
    watch = {"shift": "shifted", "flip": "centred", "jitter": "washed-out"}
    epochs, n = params["epochs"], y_train.numel()
    total = epochs * len(nets)
    every = report_every(total, 25)
    curves: dict[str, list[float]] = {}
    scores: dict[str, dict[str, tuple[float, Any]]] = {}
    done = 0
    for name in nets:
        model = _model().to(device)
        model.load_state_dict(start)
        opt = torch.optim.Adam(model.parameters(), lr=params["lr"])
        order_g, aug_g = generator(seed + 1), generator(seed + 2)
        # What each net's curve follows: its own augmentation's test set (the plain net: all).
        followed = [watch[name]] if name != "plain" else [watch[a] for a in nets[1:]]
        followed = followed or ["shifted", "washed-out"]
        per_epoch: dict[str, list[float]] = {t: [] for t in followed}
        for _ in range(epochs):
            model.train()
            order = torch.randperm(n, generator=order_g).to(device)
            for i in range(0, n, BATCH):
                idx = order[i : i + BATCH]
                xb = x_train[idx]
                if name != "plain":
                    xb = _augment(xb, name, m, aug_g)
                loss = torch.nn.functional.cross_entropy(model(xb), y_train[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            model.eval()
            for t in followed:
                per_epoch[t].append(_curve_point(model, tests[t], t))
            done += 1
            if done % every == 0:
                progress(done / total, f"training the {name} net", dict(curves))
        for t, values in per_epoch.items():
            curves[f"{name}: {_curve_label(t)}"] = floats(values)
        scores[name] = {t: _accuracy(model, *xy) for t, xy in tests.items()}

    plain = scores["plain"]
    claims = []
    if params["shift"]:
        claims.append(_shift_claim(plain, scores["shift"], m))
    if params["flip"]:
        claims.append(_flip_claim(plain, scores["flip"]))
    if params["jitter"]:
        claims.append(_jitter_claim(plain, scores["jitter"]))
    claims.append(_plain_claim(plain, m))
    if params["flip"]:
        glyphs = _glyphs()
        mirrored = (glyphs[MIRRORED[0]].flip(-1) - glyphs[MIRRORED[1]]).abs().max().item()
        claims.append(
            Claim.check(
                f"Mirrored left to right, the slash is the backslash: the largest pixel "
                f"difference between the two images is {fmt(mirrored)}",
                mirrored == 0.0,
            )
        )

    columns = ["test set", *(_column(name) for name in nets)]
    rows: list[tuple[Any, ...]] = [
        (f"{t} glyphs", *floats([scores[name][t][0] for name in nets], 3)) for t in tests
    ]
    rows.append(
        (
            "slash + backslash, centred",
            *floats([_mirrored_share(scores[name]["centred"][1]) for name in nets], 3),
        )
    )
    metrics: dict[str, float] = {}
    for name in nets:
        for t, (acc, _) in scores[name].items():
            metrics[f"{t.replace('-', '_')}_accuracy_{name}"] = acc
        metrics[f"mirrored_accuracy_{name}"] = _mirrored_share(scores[name]["centred"][1])
    return DemoOutput(
        series=curves,
        table=Table.of(columns, rows),
        metrics=metrics,
        claims=claims,
        plot=PlotSpec(title="test accuracy during training", x_label="epoch", y_label="accuracy"),
        setup=_setup(params, len(nets)),
        answers={"plain_worst": _plain_answer(plain, m)},
    )


def _setup(params: Mapping[str, Any], nets: int) -> str:
    m, epochs = params["max_shift"], params["epochs"]
    washed = (
        f"washed-out test glyphs have contrast in {_range(WASHED_CONTRAST)} and brightness in "
        f"{_range(WASHED_BRIGHTNESS)}"
    )
    if nets == 1:
        return (
            f"The plain net sees {params['per_class']} clean, centred images per class for "
            f"{epochs} epochs; shifted test glyphs move up to {m} px, and {washed}."
        )
    jitter = (
        f"jitter draws contrast in {_range(JITTER_CONTRAST)} and brightness in "
        f"{_range(JITTER_BRIGHTNESS)}; "
        if params["jitter"]
        else ""
    )
    shifts = (
        f"shifts in training and in the shifted test set move a glyph up to {m} px; "
        if params["shift"]
        else f"the shifted test set moves a glyph up to {m} px; "
    )
    return (
        f"Every net starts from the same weights and sees the same {params['per_class']} clean, "
        f"centred images per class in the same batches for {epochs} epochs; only the random "
        f"changes made to each batch differ. Here {shifts}{jitter}{washed}."
    )


def _curve_point(model: Any, xy: tuple[Any, Any], test: str) -> float:
    acc, per_class = _accuracy(model, *xy)
    return _mirrored_share(per_class) if test == "centred" else acc


def _curve_label(test: str) -> str:
    return "slash + backslash" if test == "centred" else f"{test} test"


def _column(name: str) -> str:
    return {"plain": "plain", "shift": "shifts", "flip": "flips", "jitter": "jitter"}[name]


def _range(bounds: tuple[float, float]) -> str:
    return f"[{bounds[0]:g}, {bounds[1]:g}]"


Scores = Mapping[str, tuple[float, Any]]


def _shift_claim(plain: Scores, aug: Scores, m: int) -> Claim:
    before, after = plain["shifted"][0], aug["shifted"][0]
    return Claim.experiment(
        f"On glyphs shifted by up to {m} px, the net trained on random shifts scores "
        f"{fmt(after)} against {fmt(before)} for the plain net (a gain needs at least {GAIN:g})",
        after - before >= GAIN,
        lesson=(
            f"Random shifts in training taught the net glyphs in places the training set never "
            f"put them: {fmt(before)} -> {fmt(after)} on shifted test glyphs."
        ),
        otherwise=(
            f"Random shifts did not lift accuracy on shifted test glyphs by {GAIN:g}: "
            f"{fmt(before)} plain, {fmt(after)} with shifts."
        ),
    )


def _jitter_claim(plain: Scores, aug: Scores) -> Claim:
    before, after = plain["washed-out"][0], aug["washed-out"][0]
    shifted_before, shifted_after = plain["shifted"][0], aug["shifted"][0]
    return Claim.experiment(
        f"On washed-out glyphs, the net trained with random brightness and contrast scores "
        f"{fmt(after)} against {fmt(before)} for the plain net (a gain needs at least {GAIN:g})",
        after - before >= GAIN,
        lesson=(
            f"Brightness and contrast jitter made the net read glyphs in lighting the training "
            f"set never showed: {fmt(before)} -> {fmt(after)} on washed-out glyphs (on shifted "
            f"glyphs, which it does not imitate: {fmt(shifted_before)} -> {fmt(shifted_after)})."
        ),
        otherwise=(
            f"Brightness and contrast jitter did not lift accuracy on washed-out glyphs by "
            f"{GAIN:g}: {fmt(before)} plain, {fmt(after)} with jitter."
        ),
    )


def _flip_claim(plain: Scores, aug: Scores) -> Claim:
    before = _mirrored_share(plain["centred"][1])
    after = _mirrored_share(aug["centred"][1])
    others_before, others_after = plain["centred"][0], aug["centred"][0]
    return Claim.experiment(
        f"On centred slashes and backslashes, the net trained on random mirror flips scores "
        f"{fmt(after)} against {fmt(before)} for the plain net (a cost needs a drop of at "
        f"least {CONFUSE:g})",
        before - after >= CONFUSE,
        lesson=(
            f"An augmentation must keep the label: a mirrored slash is a backslash, so the "
            f"flipped training images carried the wrong label and the net mixes the two up "
            f"({fmt(before)} -> {fmt(after)}; all centred glyphs: {fmt(others_before)} -> "
            f"{fmt(others_after)})."
        ),
        otherwise=(
            f"Mirror flips did not cost slashes and backslashes {CONFUSE:g} of accuracy here: "
            f"{fmt(before)} plain, {fmt(after)} with flips."
        ),
    )


def _plain_claim(plain: Scores, m: int) -> Claim:
    centred, shifted, washed = (plain[t][0] for t in ("centred", "shifted", "washed-out"))
    held = [
        f"{name} glyphs ({fmt(acc)})"
        for name, acc in (("shifted", shifted), ("washed-out", washed))
        if centred - acc < DROP
    ]
    if centred < LEARNED:
        otherwise = (
            f"The plain net learned little even on centred glyphs ({fmt(centred)}; guessing "
            f"scores {fmt(1 / len(CLASSES))}), so shifted ({fmt(shifted)}) and washed-out "
            f"({fmt(washed)}) ones had little to lose."
        )
    else:
        otherwise = (
            f"The plain net read {' and '.join(held)} within {DROP:g} of centred ones "
            f"({fmt(centred)})."
        )
    return Claim.experiment(
        f"Trained only on clean, centred glyphs, the plain net scores {fmt(centred)} on centred "
        f"test glyphs, {fmt(shifted)} on glyphs shifted by up to {m} px and {fmt(washed)} on "
        f"washed-out ones (tripping up needs a drop of at least {DROP:g})",
        not held,
        lesson=(
            f"A net learns only the variation its training data shows: moved or relit glyphs "
            f"trip up the plain net ({fmt(centred)} centred, {fmt(shifted)} shifted, "
            f"{fmt(washed)} washed-out)."
        ),
        otherwise=otherwise,
    )


def _plain_answer(plain: Scores, m: int) -> Answer:
    shifted, washed = plain["shifted"][0], plain["washed-out"][0]
    why = (
        f"The plain net scores {fmt(shifted)} on glyphs shifted by up to {m} px and "
        f"{fmt(washed)} on washed-out ones."
    )
    if abs(shifted - washed) <= SAME:
        return Answer(NEITHER, why)
    return Answer(SHIFTED if shifted < washed else WASHED, why)
