"""Markdown report and PNG charts of bench.perf results (ratios first, absolute values second)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

NAMES = {"kotobot": "Kotobot", "stock": "stock"}
COLORS = {"kotobot": "#1f77b4", "stock": "#aaaaaa"}
NONE = "–"

# Issue 6 "done when": (label, how the figure is read, test on that figure).
TARGETS: list[tuple[str, str, Callable[[float], bool]]] = [
    ("p50 latency, 1 user", "≤ 0.5× stock", lambda r: r <= 0.5),
    ("throughput, 10 users", "≥ 3× stock", lambda r: r >= 3),
    ("cold start, Rasa server", "≤ 20 s (absolute)", lambda s: s <= 20),
    ("peak RSS, Rasa server", "≤ 0.8× stock", lambda r: r <= 0.8),
    ("training, full data", "≤ 3 min (absolute)", lambda s: s <= 180),
]


def level(figures: dict[str, Any], users: int) -> dict[str, Any] | None:
    levels = figures.get("levels", {})
    return levels.get(users) or levels.get(str(users))


def value(results: dict[str, Any], name: str, key: str, users: int | None = None) -> float | None:
    """One figure of ``name`` (kotobot/stock): a level's p50_ms/p95_ms/throughput, or a key."""
    figures = results.get(name, {})
    if users is not None:
        found = level(figures, users)
        return found.get(key) if found else None
    if key == "train":
        training = results.get("training", {})
        return training.get(name) or (training.get("stock_cached") if name == "stock" else None)
    return figures.get(key)


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or any(map(math.isnan, (a, b))):
        return None
    return a / b


def fmt(number: float | None, digits: int = 0, unit: str = "") -> str:
    if number is None or (isinstance(number, float) and math.isnan(number)):
        return NONE
    return f"{number:,.{digits}f}{unit}"


def fmt_ratio(number: float | None) -> str:
    return NONE if number is None else f"**{number:.2f}×**"


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    minutes, rest = divmod(seconds, 60)
    return (
        f"{seconds:.0f} s" if minutes < 1 else f"{seconds:.0f} s ({minutes:.0f} min {rest:.0f} s)"
    )


# --- markdown ------------------------------------------------------------------------------


def headline(results: dict[str, Any]) -> list[str]:
    rows = {
        "p50 latency, 1 user": ("p50_ms", 1, "ms"),
        "throughput, 10 users": ("throughput", 10, "msg/s"),
        "cold start, Rasa server": ("cold_rasa", None, "s"),
        "peak RSS, Rasa server": ("rss_rasa", None, "MB"),
        "training, full data": ("train", None, "s"),
    }
    out = [
        "| measure | Kotobot / stock | issue-6 target | met? | Kotobot | stock |",
        "|---|---|---|---|---|---|",
    ]
    for label, target, test in TARGETS:
        key, users, unit = rows[label]
        ours, theirs = value(results, "kotobot", key, users), value(results, "stock", key, users)
        r = ratio(ours, theirs)
        judged = ours if unit == "s" else r  # cold start and training are absolute targets
        met = NONE if judged is None else ("yes" if test(judged) else "**no**")
        digits = 1 if unit in ("msg/s", "s") else 0
        cells = (fmt(ours, digits, f" {unit}"), fmt(theirs, digits, f" {unit}"))
        if key == "train" and results.get("training", {}).get("stock_cached"):
            cells = (cells[0], cells[1] + " (cached)")
        out.append(f"| {label} | {fmt_ratio(r)} | {target} | {met} | {cells[0]} | {cells[1]} |")
    out.append("")
    out += ["Other ratios (no target):", "", "| measure | Kotobot / stock |", "|---|---|"]
    for users in results["levels"]:
        for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("throughput", "throughput")):
            if (users, key) in ((1, "p50_ms"), (10, "throughput")):
                continue
            r = ratio(value(results, "kotobot", key, users), value(results, "stock", key, users))
            out.append(f"| {label}, {users} user{'s' * (users > 1)} | {fmt_ratio(r)} |")
    for users in results["levels"]:
        ours = level(results.get("kotobot", {}), users)
        theirs = level(results.get("stock", {}), users)
        if ours and theirs:
            total = sum(ours["cpu_ms_per_message"].values())
            r = ratio(total, sum(theirs["cpu_ms_per_message"].values()))
            plural = "s" * (users > 1)
            out.append(f"| server CPU time per message (all servers), {users} user{plural} | "
                       f"{fmt_ratio(r)} |")  # fmt: skip
    return out + [""]


def load_table(results: dict[str, Any]) -> list[str]:
    out = [
        "| users | assistant | p50 ms | p95 ms | msg/s | errors | empty replies | "
        "Rasa CPU ms/msg | actions CPU ms/msg | load avg before |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    loads = results.get("load_levels", {})
    for users in results["levels"]:
        for name in NAMES:
            found = level(results.get(name, {}), users)
            if not found:
                continue
            cpu = found["cpu_ms_per_message"]
            out.append(
                f"| {users} | {NAMES[name]} | {fmt(found['p50_ms'])} | {fmt(found['p95_ms'])} | "
                f"{fmt(found['throughput'], 1)} | {found['errors']} of {found['sent']} | "
                f"{found['empty']} | {fmt(cpu.get('rasa'), 1)} | {fmt(cpu.get('actions'), 1)} | "
                f"{fmt(loads.get(users) or loads.get(str(users)), 2)} |"
            )
    samples = [
        f"{NAMES[name]} at {users}: {sample}"
        for name in NAMES
        for users in results["levels"]
        for sample in (level(results.get(name, {}), users) or {}).get("error_samples", [])
    ]
    if samples:
        out += ["", "Errors seen (first of each level):", ""] + [f"- `{s}`" for s in samples]
    return out + [""]


def servers_table(results: dict[str, Any]) -> list[str]:
    k, s = results.get("kotobot", {}), results.get("stock", {})
    no_actions = "none (its endpoints.yml has no action endpoint)"
    training = results.get("training", {})
    stock_train = training.get("stock")
    if stock_train is None and training.get("stock_cached"):
        stock_train = training["stock_cached"]
    rows = [
        ("cold start, Rasa server (start → first answer)", fmt(k.get("cold_rasa"), 1, " s"),
         fmt(s.get("cold_rasa"), 1, " s")),
        ("cold start, action server (start → /health)", fmt(k.get("cold_actions"), 1, " s"),
         fmt(s.get("cold_actions"), 1, " s") if "cold_actions" in s else no_actions),
        ("peak RSS, Rasa server", fmt(k.get("rss_rasa"), 0, " MB"),
         fmt(s.get("rss_rasa"), 0, " MB")),
        ("peak RSS, action server", fmt(k.get("rss_actions"), 0, " MB"),
         fmt(s.get("rss_actions"), 0, " MB") if "rss_actions" in s else no_actions),
        ("server CPU time, whole run (Rasa + actions)",
         fmt((k.get("cpu_total_rasa") or 0) + (k.get("cpu_total_actions") or 0), 1, " s"),
         fmt((s.get("cpu_total_rasa") or 0) + (s.get("cpu_total_actions") or 0), 1, " s")),
        ("training, full data (`rasa train`)", fmt_seconds(training.get("kotobot")),
         fmt_seconds(stock_train) + (" (cached)" if "stock" not in training and stock_train
                                     else "")),
    ]  # fmt: skip
    out = ["| | Kotobot | stock |", "|---|---|---|"]
    out += [f"| {label} | {a} | {b} |" for label, a, b in rows]
    return out + [""]


def quality_tables(results: dict[str, Any]) -> list[str]:
    out = []
    langid = results.get("langid", {})
    if "error" in langid:
        out += [f"Language detection: {langid['error']}", ""]
    elif langid:
        out += [
            f"**Language detection** ({langid.get('backend', 'lingua')}, as configured; "
            f"bench.langid on the first "
            f"{langid['limit']} texts per language and kind of ../shared/langid-dev):",
            "",
            "| texts | n | mean accuracy % | worst | ms/message |",
            "|---|---|---|---|---|",
        ]
        for kind, row in langid["kinds"].items():
            worst = f"{row['worst'][1]:.0f} ({row['worst'][0]})"
            out.append(
                f"| {kind} | {row['n']} | **{row['mean']:.1f}** | {worst} | {row['ms']:.2f} |"
            )
        out += ["", "<details><summary>per language</summary>", ""]
        out += [line for line in langid["table"] if not line.startswith("### ")]
        out += ["</details>", ""]
    intents = results.get("intents", {})
    if intents:
        languages = [code for code in intents if isinstance(intents[code], dict)]
        topic = [intents[code]["topic"] for code in languages]
        oos = [intents[code]["oos"] for code in languages]
        out += [
            f"**Held-out intent accuracy per language** (bench.eval_nlu on the Kotobot model, "
            f"tests/nlu_eval/, {intents['n']} texts, {intents['parse_ms']:.1f} ms per parse "
            f"in-process):",
            "",
            "| | " + " | ".join(languages) + " | mean | worst |",
            "|---" * (len(languages) + 3) + "|",
        ]
        for label, values in (("topic accuracy %", topic), ("off-topic rejected %", oos)):
            cells = " | ".join(f"{v:.0f}" for v in values)
            mean = sum(values) / len(values)
            out.append(f"| {label} | {cells} | **{mean:.1f}** | {min(values):.0f} |")
        out.append("")
    return out


def machine_lines(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    loads = ", ".join(
        f"{users} user{'s' * (int(users) > 1)} {load}"
        for users, load in results.get("load_levels", {}).items()
    )
    network = results.get("network", {})
    foreign = network.get("foreign") or []
    checked = f"{network.get('samples', 0)} socket samples, " + (
        "no non-loopback peer seen" if not foreign else "non-loopback peers: " + ", ".join(foreign)
    )
    stock = results.get("stock_info", {})
    return [
        f"- Machine: {m['nproc']} CPUs (nproc), {m['cpu']}, {m['memory']} RAM, "
        f"Linux {m['kernel']}; Python {m['python']}, Rasa {stock.get('rasa', '?')}",
        f"- Date: {m['date']}; run time {fmt_seconds(results.get('runtime_s'))} "
        f"({results['mode']} mode)",
        f"- Load average (1 min) — start {results.get('load_start')}, before cold starts "
        f"{results.get('load_cold_start')}, before each level: {loads}; end "
        f"{results.get('load_end')}. The machine is shared: other jobs' load shows up in "
        f"absolute figures; the ratios are the headline because both assistants run in the same "
        f"minutes (levels alternate between them).",
        f"- Network: {results.get('isolation')}; {checked}.",
        f"- Command: `{results.get('command')}`",
    ]


def method_lines(results: dict[str, Any]) -> list[str]:
    conv = results.get("conversations", {})
    k, s = conv.get("kotobot", {}), conv.get("stock", {})
    stock = results.get("stock_info", {})
    config = results.get("kotobot_config", {})
    pipeline, policies = (", ".join(config.get(part, [])) for part in ("pipeline", "policies"))
    return [
        f"- **Kotobot**: config.yml as committed (pipeline {pipeline}; policies {policies}), "
        f"`models/kotobot.tar.gz` served by `python -m bot.server.serve` (`rasa run` as `make run` "
        f"starts it) with the project's credentials.yml and endpoints.yml (action server "
        f"`rasa run actions`, SQLite tracker "
        f"store in a temp folder), content source `{results.get('content_source')}` "
        f"(the exported content API on a local server), Service Catalogue (PTV) from the sample "
        f"records in tests/fixtures/ptv on the same local server. {k.get('conversations')} "
        f"conversations, {k.get('messages')} messages written for this benchmark: 13 languages, "
        f"typed questions, `/topic` buttons with `metadata.language` ({k.get('ui_languages')} UI "
        f"languages), small talk, a language switch, municipalities (→ PTV).",
        f"- **stock**: `rasa init --no-prompt` (Rasa {stock.get('rasa', '?')}, default config: "
        f"DIET + ResponseSelector, Memoization + Rule + UnexpecTED + TED policies), created "
        f"{stock.get('created', '?')}, served the same way from its own folder; no action "
        f"server (its endpoints name none). {s.get('conversations')} conversations, "
        f"{s.get('messages')} messages following its own stories.",
        f"- **Load**: {results['messages']} messages per level and assistant over REST "
        f"(`/webhooks/rest/webhook`, aiohttp, keep-alive); each user goes through whole "
        f"conversations with a new sender id each; latency is client-side per message, "
        f"throughput = answered messages / wall time of the level. Both assistants answer "
        f"every conversation once (4 users) before the levels, unmeasured.",
        "- **Cold start**: process start until the first non-empty REST answer (Rasa server), "
        "until `/health` answers (action server); started one after the other, the action server "
        "first. **Peak RSS**: VmHWM of the server process (and children) after all levels. "
        "**CPU ms/msg**: user + system time of the server processes during the level / answered "
        "messages (less sensitive to other jobs than wall times).",
        "- **Training**: wall time of `rasa train` of the full data with a fresh cache "
        "(RASA_CACHE_DIRECTORY in a temp folder); Kotobot's model goes to a temp --out, stock "
        "uses `--force`.",
    ]


def markdown(results: dict[str, Any], charts: list[str]) -> str:
    quick = results["mode"] == "quick"
    lines = ["# Kotobot vs stock Rasa: speed and memory (issue 6)", ""]
    if quick:
        lines += [
            "> **Quick mode** (smoke run): few messages per level, no training timing, small "
            "language sample. The figures show the code works, not how fast it is.",
            "",
        ]
    lines += ["## Headline: Kotobot / stock, same run", ""] + headline(results)
    lines += ["## Latency and throughput over REST", ""] + load_table(results)
    lines += ["## Cold start, memory, training", ""] + servers_table(results)
    lines += ["## Language detection and intent accuracy", ""] + quality_tables(results)
    lines += ["## Charts", ""] + [f"![{Path(c).stem}]({c})" for c in charts] + [""]
    lines += ["## Machine and run", ""] + machine_lines(results) + [""]
    lines += ["## Method", ""] + method_lines(results) + [""]
    return "\n".join(lines)


# --- charts --------------------------------------------------------------------------------


def charts(results: dict[str, Any], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    written = []
    levels = results["levels"]
    x = np.arange(len(levels))

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
        written.append(name)

    def grouped(ax: Any, key: str, title: str, ylabel: str, log: bool = False) -> None:
        for i, assistant in enumerate(NAMES):
            heights = [value(results, assistant, key, users) or 0 for users in levels]
            bars = ax.bar(x + (i - 0.5) * 0.38, heights, 0.38, label=NAMES[assistant],
                          color=COLORS[assistant])  # fmt: skip
            ax.bar_label(bars, fmt="%.0f" if max(heights, default=0) >= 10 else "%.1f", fontsize=8)
        ax.set_xticks(x, [f"{users} user{'s' * (users > 1)}" for users in levels])
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if log:
            ax.set_yscale("log")
        ax.legend()

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    grouped(left, "p50_ms", "Latency p50 (lower is better)", "ms per message", log=True)
    grouped(right, "p95_ms", "Latency p95 (lower is better)", "ms per message", log=True)
    save(fig, "latency.png")
    fig, ax = plt.subplots(figsize=(7, 4))
    grouped(ax, "throughput", "Throughput (higher is better)", "messages / s")
    save(fig, "throughput.png")

    def pairs(keys: list[tuple[str, str]], name: str, title: str, ylabel: str) -> None:
        fig, ax = plt.subplots(figsize=(7, 4))
        positions = np.arange(len(keys))
        for i, assistant in enumerate(NAMES):
            heights = [value(results, assistant, key) or 0 for key, _ in keys]
            bars = ax.bar(positions + (i - 0.5) * 0.38, heights, 0.38, label=NAMES[assistant],
                          color=COLORS[assistant])  # fmt: skip
            ax.bar_label(bars, labels=[f"{h:.0f}" if h else "none" for h in heights], fontsize=8)
        ax.set_xticks(positions, [label for _, label in keys])
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend()
        save(fig, name)

    servers = [("Rasa server", "rasa"), ("action server", "actions")]
    pairs([(f"rss_{k}", label) for label, k in servers], "rss.png",
          "Peak resident memory (lower is better)", "MB")  # fmt: skip
    pairs([(f"cold_{k}", label) for label, k in servers], "cold_start.png",
          "Cold start: process start to first answer (lower is better)", "s")  # fmt: skip
    if results.get("training", {}).get("kotobot") or results.get("training", {}).get("stock"):
        pairs([("train", "rasa train, full data")], "training.png",
              "Training time (lower is better)", "s")  # fmt: skip
    return written


def write_report(results: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    names = charts(results, out)
    report = out / "report.md"
    report.write_text(markdown(results, names), "utf-8")
    return report
