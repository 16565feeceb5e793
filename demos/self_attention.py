"""A small self-attention model learns to look a value up by its key.

Each sequence holds `pairs` tokens such as "c7" (a letter and a digit; the letters in a
sequence differ) and ends with a query token such as "c?". The answer is the digit paired with
the query's letter, so the output at the query depends on one other position, a different one
in every sequence. One self-attention layer (single head, scaled dot-product attention as in
Vaswani et al. 2017, softmax(Q K^T / sqrt(d)) V, with a residual connection) lets every token
mix in the others; a small MLP reads the digit off the query's position. The model has no
positional encoding: the task does not depend on order.

The same network is trained a second time with every attention weight fixed at 1/(pairs + 1):
each token then receives the plain average of all tokens. Both train with Adam on the same
batches and are scored on freshly drawn held-out sequences. The run measures how much of the
query's attention lands on the matching pair, shows the query's attention weights on a few
held-out sequences (`view=attention`), and checks the attention arithmetic against
`torch.nn.functional.scaled_dot_product_attention`.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from typing import Any

from demos._common import Ticker, floats, fmt, generator, one_thread, setup
from studyapp.demo_api import (
    Answer,
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Question,
    Table,
    choice_param,
    device_param,
    float_param,
    int_param,
)

LETTERS = string.ascii_lowercase[:16]
DIGITS = 10
BATCH = 64
HELD_OUT = 1000
CURVE_EVALS = 40  # held-out evaluations along each training run
CURVE_SAMPLES = 256  # held-out sequences used for those evaluations
FOCUSED = 0.5  # "attends to the matching pair" = puts more than half its attention there
GAP = 0.3  # "far worse" = at least this much lower held-out accuracy
EXAMPLES = 2  # held-out sequences whose attention the table and plot show

WHERE_OPTIONS = (
    "on the pair whose letter matches the query (more than half of it)",
    "elsewhere: the matching pair gets less than half of it",
)
UNIFORM_OPTIONS = (
    "far worse: at least 0.3 lower accuracy",
    "not far worse: less than 0.3 lower, or better",
)

SPEC = DemoSpec(
    id="self_attention",
    title="Self-attention looks a value up by its key",
    summary=(
        "Train one self-attention layer to return the digit paired with a query letter, and "
        "compare it with the same model whose attention weights are all equal."
    ),
    topics=(
        "attention",
        "self-attention",
        "scaled dot-product attention",
        "transformers",
        "queries, keys and values",
    ),
    params=(
        int_param("pairs", 8, 2, 12, "letter-digit pairs per sequence (before the query)"),
        int_param("steps", 200, 10, 2000, "Adam steps of each model"),
        float_param("lr", 3e-3, 1e-4, 3e-2, "Adam learning rate of both models", log_scale=True),
        int_param("dim", 32, 8, 64, "width d of the embeddings, queries, keys and values"),
        choice_param(
            "view",
            "training",
            ("training", "attention"),
            "plot held-out accuracy during training, or the query's attention weights on "
            "held-out sequences",
        ),
        device_param(),
    ),
    tiny={"steps": 80, "lr": 0.01},
    timeout_s=60,
    questions=(
        Question(
            "where",
            "After training, where does the query token put most of its attention?",
            WHERE_OPTIONS,
        ),
        Question(
            "uniform",
            "How does the same model with every attention weight fixed at 1/(pairs + 1) do on "
            "held-out sequences, compared with the model that learns its attention?",
            UNIFORM_OPTIONS,
        ),
    ),
)


def _sequences(torch: Any, gen: Any, n: int, pairs: int) -> dict[str, Any]:
    """Letters (distinct within a sequence), digits, which pair the query asks for, the answer."""
    letters = torch.argsort(torch.rand(n, len(LETTERS), generator=gen), dim=1)[:, :pairs]
    digits = torch.randint(0, DIGITS, (n, pairs), generator=gen)
    asked = torch.randint(0, pairs, (n,), generator=gen)
    rows = torch.arange(n)
    return {
        "letters": letters,
        "digits": digits,
        "asked": asked,
        "query": letters[rows, asked],
        "answer": digits[rows, asked],
    }


def _build(torch: Any, seed: int, dim: int) -> Any:
    nn = torch.nn
    torch.manual_seed(seed)
    return nn.ModuleDict(
        {
            "letter": nn.Embedding(len(LETTERS), dim),
            "digit": nn.Embedding(DIGITS, dim),
            "query": nn.Embedding(1, dim),  # marks the query token
            "qkv": nn.Linear(dim, 3 * dim, bias=False),
            "mlp": nn.Sequential(nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, DIGITS)),
        }
    )


def _forward(torch: Any, model: Any, batch: Mapping[str, Any], uniform: bool) -> dict[str, Any]:
    """Logits at the query and the attention weights (n, pairs + 1, pairs + 1)."""
    pair_tokens = model["letter"](batch["letters"]) + model["digit"](batch["digits"])
    marker = model["query"].weight[0]
    query_token = model["letter"](batch["query"]) + marker
    x = torch.cat([pair_tokens, query_token[:, None]], dim=1)
    q, k, v = model["qkv"](x).chunk(3, dim=-1)
    scores = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])
    if uniform:
        weights = torch.full_like(scores, 1.0 / scores.shape[-1])
    else:
        weights = torch.softmax(scores, dim=-1)
    mixed = weights @ v
    h = x + mixed
    return {
        "logits": model["mlp"](h[:, -1]),
        "weights": weights,
        "q": q,
        "k": k,
        "v": v,
        "mixed": mixed,
    }


def _to(batch: Mapping[str, Any], device: Any) -> dict[str, Any]:
    return {name: t.to(device) for name, t in batch.items()}


def _score(torch: Any, model: Any, batch: Mapping[str, Any], uniform: bool) -> dict[str, float]:
    with torch.no_grad():
        out = _forward(torch, model, batch, uniform)
    rows = torch.arange(len(batch["answer"]), device=batch["answer"].device)
    query_row = out["weights"][:, -1]
    return {
        "accuracy": (out["logits"].argmax(1) == batch["answer"]).float().mean().item(),
        "on_match": query_row[rows, batch["asked"]].mean().item(),
        "on_self": query_row[:, -1].mean().item(),
    }


def _pairing_blind_ceiling(torch: Any, digits: Any) -> float:
    """The best expected accuracy of any model that sees which digits occur but not their letters.

    Its best guess is the sequence's most frequent digit, right with probability (count of that
    digit) / pairs, as the query asks for a uniformly random pair.
    """
    counts = torch.nn.functional.one_hot(digits, DIGITS).sum(dim=1)
    return (counts.max(dim=1).values.float() / digits.shape[1]).mean().item()


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    pairs, steps = params["pairs"], params["steps"]
    gen = generator(seed)
    held_out = _to(_sequences(torch, gen, HELD_OUT, pairs), device)
    curve_set = {name: t[:CURVE_SAMPLES] for name, t in held_out.items()}
    stream = gen.get_state()
    every = max(1, steps // CURVE_EVALS)
    tick = Ticker(progress, 2 * steps, "training")
    models: dict[str, Any] = {}
    curves: dict[str, dict[str, list[float]]] = {}
    for name, uniform in (("attention", False), ("uniform", True)):
        model = _build(torch, seed, params["dim"]).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=params["lr"])
        gen.set_state(stream)  # both models see the same batches
        curve: dict[str, list[float]] = {"step": [], "accuracy": [], "on_match": []}
        for step in range(steps + 1):
            if step % every == 0 or step == steps:
                score = _score(torch, model, curve_set, uniform)
                curve["step"].append(float(step))
                curve["accuracy"].append(score["accuracy"])
                curve["on_match"].append(score["on_match"])
            if step == steps:
                break
            batch = _to(_sequences(torch, gen, BATCH, pairs), device)
            loss = torch.nn.functional.cross_entropy(
                _forward(torch, model, batch, uniform)["logits"], batch["answer"]
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            tick()
        models[name], curves[name] = model, curve
    return _report(torch, params, models, curves, held_out)


def _relative(a: Any, b: Any) -> float:
    """Largest difference between two tensors, relative to the largest entry of `b`."""
    return (a - b).abs().max().item() / max(b.abs().max().item(), 1e-30)


def _checks(torch: Any, models: Mapping[str, Any], held_out: Mapping[str, Any]) -> dict[str, float]:
    """Numbers behind the checks, on the first 256 held-out sequences."""
    batch = {name: t[:CURVE_SAMPLES] for name, t in held_out.items()}
    shuffled = dict(batch)
    # The same digits in a different order: which digit goes with which letter changes.
    shuffled["digits"] = batch["digits"].roll(1, dims=1)
    with torch.no_grad():
        att = _forward(torch, models["attention"], batch, uniform=False)
        reference = torch.nn.functional.scaled_dot_product_attention(att["q"], att["k"], att["v"])
        differences = {
            name: _relative(
                _forward(torch, model, shuffled, name == "uniform")["logits"],
                _forward(torch, model, batch, name == "uniform")["logits"],
            )
            for name, model in models.items()
        }
    return {
        "softmax_row_error": (att["weights"].sum(dim=-1) - 1).abs().max().item(),
        "sdpa_difference": _relative(att["mixed"], reference),
        "shuffle_change_uniform": differences["uniform"],
        "shuffle_change_attention": differences["attention"],
    }


def _report(
    torch: Any,
    params: Mapping[str, Any],
    models: Mapping[str, Any],
    curves: Mapping[str, Mapping[str, list[float]]],
    held_out: Mapping[str, Any],
) -> DemoOutput:
    pairs, steps, lr = params["pairs"], params["steps"], params["lr"]
    attention = _score(torch, models["attention"], held_out, uniform=False)
    uniform = _score(torch, models["uniform"], held_out, uniform=True)
    ceiling = _pairing_blind_ceiling(torch, held_out["digits"])
    checks = _checks(torch, models, held_out)
    even = 1.0 / (pairs + 1)
    on_match, acc_att, acc_uni = attention["on_match"], attention["accuracy"], uniform["accuracy"]
    focused = on_match > FOCUSED
    far_worse = acc_uni <= acc_att - GAP
    claims = [
        Claim.experiment(
            f"After {steps} steps the query token puts more than {FOCUSED:g} of its attention on "
            f"the pair whose letter matches it: {fmt(on_match)} on average over {HELD_OUT} "
            f"held-out sequences (an even spread gives {fmt(even)})",
            focused,
            lesson=(
                f"The trained query token puts {fmt(on_match)} of its attention on the one pair "
                f"whose letter matches it, a position that changes from sequence to sequence: "
                f"the scores q·k/√d find the answer by content, and the model reaches "
                f"held-out accuracy {acc_att:.2f}."
            ),
            otherwise=(
                f"After {steps} steps at lr {lr:g} the query's attention on the matching pair is "
                f"only {fmt(on_match)} (an even spread gives {fmt(even)}), and the model reaches "
                f"held-out accuracy {acc_att:.2f}."
            ),
        ),
        Claim.experiment(
            f"Held-out accuracy with learned attention ({acc_att:.2f}) is at least {GAP:g} above "
            f"the same model with every weight fixed at 1/{pairs + 1} ({acc_uni:.2f})",
            far_worse,
            lesson=(
                f"With every attention weight fixed at 1/{pairs + 1} the same network reaches a "
                f"held-out accuracy of only {acc_uni:.2f} against {acc_att:.2f} with learned "
                f"weights: a plain average of all tokens no longer says which digit goes with "
                f"which letter, and no model blind to that pairing can expect more than "
                f"{ceiling:.2f} on these sequences."
            ),
            otherwise=(
                f"Held-out accuracy was {acc_att:.2f} with learned attention and {acc_uni:.2f} "
                f"with uniform weights: less than {GAP:g} apart after {steps} steps (chance is "
                f"{fmt(1 / DIGITS)}; a model blind to the pairing can expect at most "
                f"{ceiling:.2f})."
            ),
        ),
        Claim.check(
            f"Every row of softmax(QK^T/√d) sums to 1 (largest deviation "
            f"{fmt(checks['softmax_row_error'])})",
            checks["softmax_row_error"] < 1e-5,
        ),
        Claim.check(
            "The layer's softmax(QK^T/√d)V equals torch's scaled_dot_product_attention (largest "
            f"relative difference {fmt(checks['sdpa_difference'])})",
            checks["sdpa_difference"] < 1e-4,
        ),
        Claim.check(
            "With uniform weights the output ignores which digit goes with which letter: moving "
            "every digit to the next pair changes its logits by a relative "
            f"{fmt(checks['shuffle_change_uniform'])} at most (learned attention: "
            f"{fmt(checks['shuffle_change_attention'])})",
            checks["shuffle_change_uniform"] < 1e-4,
        ),
    ]
    answers = {
        "where": Answer(
            WHERE_OPTIONS[0] if focused else WHERE_OPTIONS[1],
            f"On held-out sequences the query put {fmt(on_match)} of its attention on the "
            f"matching pair and {fmt(attention['on_self'])} on itself.",
        ),
        "uniform": Answer(
            UNIFORM_OPTIONS[0] if far_worse else UNIFORM_OPTIONS[1],
            f"Held-out accuracy: {acc_att:.2f} with learned attention, {acc_uni:.2f} with "
            f"uniform weights.",
        ),
    }
    metrics = {
        "attention_on_match": on_match,
        "attention_on_query_itself": attention["on_self"],
        "even_spread": even,
        "held_out_accuracy_attention": acc_att,
        "held_out_accuracy_uniform": acc_uni,
        "pairing_blind_ceiling": ceiling,
        "chance": 1.0 / DIGITS,
        **checks,
    }
    examples = _examples(torch, models["attention"], held_out)
    if params["view"] == "attention":
        positions = [float(i + 1) for i in range(pairs + 1)]
        series: dict[str, Any] = {
            example["label"]: {"x": positions, "y": floats(example["weights"])}
            for example in examples
        }
        plot = PlotSpec(
            title="the query's attention weights on held-out sequences",
            x_label=f"position ({pairs + 1} = the query itself)",
            y_label="attention weight",
        )
    else:
        series = {}
        for name, curve in curves.items():
            series[f"held-out accuracy, {name}"] = {
                "x": curve["step"],
                "y": floats(curve["accuracy"]),
            }
        series["attention on the matching pair"] = {
            "x": curves["attention"]["step"],
            "y": floats(curves["attention"]["on_match"]),
        }
        plot = PlotSpec(
            title="held-out accuracy and attention", x_label="Adam step", y_label="fraction"
        )
    return DemoOutput(
        series=series,
        table=_table(examples, pairs),
        metrics=metrics,
        claims=claims,
        plot=plot,
        setup=(
            f"Both models are the same network, built from the same initial weights and trained "
            f"with Adam (lr {lr:g}) on the same {steps} batches of {BATCH} sequences; the second "
            f"has its attention weights fixed at 1/{pairs + 1}."
        ),
        answers=answers,
    )


def _examples(torch: Any, model: Any, held_out: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The query's attention on the first few held-out sequences, with their tokens."""
    batch = {name: t[:EXAMPLES] for name, t in held_out.items()}
    with torch.no_grad():
        out = _forward(torch, model, batch, uniform=False)
    examples = []
    for i in range(EXAMPLES):
        letters = [LETTERS[c] for c in batch["letters"][i].tolist()]
        digits = batch["digits"][i].tolist()
        query = LETTERS[batch["query"][i].item()]
        guess = out["logits"][i].argmax().item()
        answer = batch["answer"][i].item()
        examples.append(
            {
                "label": f"example {i + 1}: {query}? -> {guess} (answer {answer})",
                "tokens": [f"{c}{d}" for c, d in zip(letters, digits, strict=True)] + [f"{query}?"],
                "weights": out["weights"][i, -1].tolist(),
                "asked": batch["asked"][i].item(),
            }
        )
    return examples


def _table(examples: list[dict[str, Any]], pairs: int) -> Table:
    columns = ["position"]
    for i in range(len(examples)):
        columns += [f"example {i + 1} token", f"example {i + 1} weight"]
    rows = []
    for position in range(pairs + 1):
        row: list[Any] = [position + 1]
        for example in examples:
            mark = " (match)" if position == example["asked"] else ""
            row += [example["tokens"][position] + mark, round(example["weights"][position], 3)]
        rows.append(tuple(row))
    return Table.of(columns, rows)
