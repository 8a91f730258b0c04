"""Speed and memory of Kotobot against a stock ``rasa init`` assistant, same run, same machine.

    python -m bench.perf [--quick] [--skip-stock] [--out reports/perf]

Measures, for this project (models/kotobot.tar.gz, real action server, REST, mixed languages and
topics, content API and Service Catalogue served locally) and for a stock ``rasa init --no-prompt``
assistant created in a temp folder from the same venv (its default config, its own conversations):

- latency p50/p95 and throughput over REST at 1, 10 and 40 concurrent users (--messages each);
- cold start: process start until the first answer (Rasa server; action server separately);
- training time of the full data (``rasa train`` for both; Kotobot's model goes to a temp folder);
- peak RSS of the Rasa server and of the action server, and server CPU time per message;
- language detection accuracy and ms per message (bench.langid, --langid-limit texts per language
  and kind) and held-out intent accuracy per language (bench.eval_nlu on the Kotobot model).

Writes ``OUT/report.md``, PNG charts and ``OUT/results.json``; server logs in ``OUT/logs/``. The
stock project and model are cached in ``OUT/stock/`` (``--skip-stock`` reuses them). Everything
runs in a private network namespace when ``unshare`` allows one (only 127.0.0.1 exists there);
otherwise proxies point at a closed local port and the run's sockets are watched. ``--quick``:
fewer messages, no training timing, a smaller language sample: a smoke run, not figures.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench import perf_load as load
from bench import perf_proc as proc
from bench.perf_report import write_report
from bot.core.paths import data_path, project_root
from bot.tools import harness
from bot.tools.harness import free_port

BIN = Path(sys.executable).parent
LEVELS = (1, 10, 40)
ROOT = project_root()


@dataclass
class Assistant:
    name: str
    cwd: Path
    model: Path
    credentials: Path
    endpoints: Path  # as the assistant ships it
    conversations: list[load.Conversation]
    first: load.Message
    env: dict[str, str] = field(default_factory=dict)
    # How its Rasa server starts: stock with `rasa run`, Kotobot as `make run` starts it
    # (bot/tools/harness.py builds the command; the options below follow it).
    launcher: tuple[str, ...] = (str(BIN / "rasa"), "run")
    actions: proc.ManagedProcess | None = None
    rasa: proc.ManagedProcess | None = None
    url: str = ""
    figures: dict[str, Any] = field(default_factory=dict)

    def needs_action_server(self) -> bool:
        config = yaml.safe_load(self.endpoints.read_text("utf-8")) or {}
        return bool((config.get("action_endpoint") or {}).get("url"))

    def cpu_readers(self) -> dict[str, Any]:
        readers = {}
        for role, server in (("rasa", self.rasa), ("actions", self.actions)):
            if server is not None:
                readers[role] = lambda pid=server.pid: proc.cpu_seconds(pid)
        return readers


def pipeline_names(config: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(config.read_text("utf-8")) or {}
    return {
        part: [str(item["name"]).rsplit(".", 1)[-1] for item in data.get(part) or []]
        for part in ("pipeline", "policies")
    }


def base_env() -> dict[str, str]:
    env = {**os.environ, **proc.no_proxy_env()}
    env.update(
        RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONDONTWRITEBYTECODE="1"
    )
    env.pop(proc.NETNS_MARKER, None)
    return env


def log(message: str) -> None:
    print(
        f"[perf {time.strftime('%H:%M:%S')} load {proc.load_average():.2f}] {message}", flush=True
    )


def run_timed(
    registry: proc.ProcessRegistry, name: str, cmd: list[str], cwd: Path, env: dict, logs: Path
) -> float:
    """Runs a command to the end; its wall time in seconds."""
    job = registry.start(proc.ManagedProcess(name, cmd, cwd=cwd, env=env, log=logs / f"{name}.log"))
    code = job.wait(timeout=3600)
    seconds = time.perf_counter() - job.started
    job.stop()
    if code != 0:
        raise RuntimeError(f"{name} failed ({code}); see {job.log}\n{job.tail()}")
    return seconds


# --- the stock assistant -------------------------------------------------------------------


def stock_model(directory: Path) -> Path | None:
    models = sorted((directory / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def prepare_stock(
    cache: Path, reuse: bool, registry: proc.ProcessRegistry, tmp: Path, logs: Path
) -> dict[str, Any]:
    """``rasa init --no-prompt`` in a temp folder (it trains its model), cached in ``cache``."""
    info_file = cache / "stock.json"
    if reuse and stock_model(cache) and info_file.is_file():
        log(f"stock: reusing {stock_model(cache)}")
        return json.loads(info_file.read_text("utf-8"))
    if reuse:
        log("stock: nothing cached yet, creating it")
    project = tmp / "stock-init"
    project.mkdir()
    env = {**base_env(), "RASA_CACHE_DIRECTORY": str(tmp / "cache-stock-init")}
    log("stock: rasa init --no-prompt (creates the project and trains its model)")
    seconds = run_timed(
        registry, "stock-init", [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir",
                                 str(project)], project, env, logs,
    )  # fmt: skip
    if stock_model(project) is None:
        raise RuntimeError("rasa init did not train a model")
    if cache.exists():
        shutil.rmtree(cache)
    shutil.copytree(project, cache, ignore=shutil.ignore_patterns(".rasa", "__pycache__"))
    info = {
        "rasa": importlib.metadata.version("rasa"),
        "created": proc.machine()["date"],
        "init_seconds": round(seconds, 1),
        "train_seconds": None,
        "train_date": None,
    }
    info_file.write_text(json.dumps(info, indent=2) + "\n", "utf-8")
    return info


# --- training ------------------------------------------------------------------------------


def time_training(
    registry: proc.ProcessRegistry, stock_dir: Path, tmp: Path, logs: Path
) -> dict[str, float]:
    """``rasa train`` of the full data for both, each with a fresh cache and a temp --out."""
    times = {}
    env = {**base_env(), "RASA_CACHE_DIRECTORY": str(tmp / "cache-train-kotobot")}
    log("training Kotobot (rasa train, --out in a temp folder)")
    times["kotobot"] = run_timed(
        registry, "train-kotobot",
        [str(BIN / "rasa"), "train", "--config", "config.yml", "--domain", "domain.yml",
         "--data", "data", "--out", str(tmp / "train-kotobot"), "--fixed-model-name",
         "kotobot-perf", "--quiet"],
        ROOT, env, logs,
    )  # fmt: skip
    env = {**base_env(), "RASA_CACHE_DIRECTORY": str(tmp / "cache-train-stock")}
    log("training stock (rasa train --force, --out in a temp folder)")
    times["stock"] = run_timed(
        registry, "train-stock",
        [str(BIN / "rasa"), "train", "--force", "--out", str(tmp / "train-stock"), "--quiet"],
        stock_dir, env, logs,
    )  # fmt: skip
    return times


# --- serving -------------------------------------------------------------------------------


def http_ok(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return response.status < 500
    except OSError:
        return False


def export_content(out: Path) -> None:
    from bot.content.export import build_documents, write_documents
    from bot.content.files import FilesContentSource
    from bot.core.taxonomy import taxonomy

    documents, problems = build_documents(FilesContentSource(), taxonomy())
    if problems:
        raise RuntimeError("content does not export: " + "; ".join(problems[:5]))
    write_documents(documents, out)


def start_fixtures(registry: proc.ProcessRegistry, tmp: Path, logs: Path) -> str:
    content = tmp / "content-api"
    export_content(content)
    port = free_port()
    fixtures = registry.start(
        proc.ManagedProcess(
            "fixtures",
            [
                sys.executable,
                "-m",
                "bot.tools.local_apis",
                "--port",
                str(port),
                "--content",
                str(content),
            ],
            cwd=ROOT,
            env=base_env(),
            log=logs / "fixtures.log",
        )  # fmt: skip
    )
    url = f"http://127.0.0.1:{port}"
    fixtures.wait_ready(lambda: http_ok(f"{url}/content/v1/index.json"), 60)
    return url


def kotobot_env(tmp: Path, fixtures: str, content: str) -> dict[str, str]:
    env = {
        "KOTOBOT_DB_URL": f"sqlite:///{tmp / 'tracker.sqlite3'}",
        "KOTOBOT_FEEDBACK_DB": str(tmp / "feedback.sqlite3"),
        "KOTOBOT_PTV_URL": f"{fixtures}/ptv/api/v11",
        "KOTOBOT_CONTENT_SOURCE": content,
    }
    if content == "http":
        env["KOTOBOT_CONTENT_URL"] = f"{fixtures}/content"
    return env


HARNESS = ("bot.tools.harness",)  # Kotobot's launcher: the harness's own command


def rasa_command(assistant: Assistant, port: int, endpoints: Path) -> list[str]:
    """The Rasa server's command: Kotobot's from the harness, the stock one with `rasa run`."""
    if assistant.launcher == HARNESS:
        return harness.rasa_server_command(
            assistant.model, port, assistant.credentials, endpoints, "127.0.0.1"
        )
    return [*assistant.launcher, "--model", str(assistant.model), "--port", str(port),
            "--interface", "127.0.0.1", "--credentials", str(assistant.credentials),
            "--endpoints", str(endpoints)]  # fmt: skip


def start_servers(
    assistant: Assistant, registry: proc.ProcessRegistry, tmp: Path, logs: Path
) -> None:
    """Action server (if its endpoints name one), then the Rasa server; cold starts of each."""
    env = {**base_env(), **assistant.env}
    endpoints_config = yaml.safe_load(assistant.endpoints.read_text("utf-8")) or {}
    figures = assistant.figures
    if assistant.needs_action_server():
        port = free_port()
        endpoints_config["action_endpoint"]["url"] = f"http://127.0.0.1:{port}/webhook"
        log(f"{assistant.name}: starting the action server")
        assistant.actions = registry.start(
            proc.ManagedProcess(
                f"{assistant.name}-actions",
                harness.action_server_command(port),
                cwd=assistant.cwd,
                env=env,
                log=logs / f"{assistant.name}-actions.log",
            )  # fmt: skip
        )
        figures["cold_actions"] = assistant.actions.wait_ready(
            lambda: http_ok(f"http://127.0.0.1:{port}/health"), 300
        )
        log(f"{assistant.name}: action server answered after {figures['cold_actions']:.1f} s")
    endpoints = tmp / f"{assistant.name}-endpoints.yml"
    endpoints.write_text(yaml.safe_dump(endpoints_config, allow_unicode=True), "utf-8")
    port = free_port()
    assistant.url = f"http://127.0.0.1:{port}"
    log(f"{assistant.name}: starting the Rasa server")
    assistant.rasa = registry.start(
        proc.ManagedProcess(
            f"{assistant.name}-rasa",
            rasa_command(assistant, port, endpoints),
            cwd=assistant.cwd,
            env=env,
            log=logs / f"{assistant.name}-rasa.log",
        )  # fmt: skip
    )
    figures["cold_rasa"] = assistant.rasa.wait_ready(
        lambda: load.answer_once(assistant.url, assistant.first), 900
    )
    log(f"{assistant.name}: first answer after {figures['cold_rasa']:.1f} s")


def level_dict(result: load.LevelResult) -> dict[str, Any]:
    return {
        "users": result.users,
        "sent": result.sent,
        "ok": result.ok,
        "errors": result.errors,
        "empty": result.empty,
        "wall_s": round(result.wall, 3),
        "p50_ms": round(result.p50, 1),
        "p95_ms": round(result.p95, 1),
        "throughput": round(result.throughput, 2),
        "cpu_ms_per_message": {
            role: round(result.cpu_ms_per_message(role), 1) for role in result.cpu
        },
        "error_samples": result.error_samples,
    }


def measure_load(
    assistants: list[Assistant], levels: tuple[int, ...], messages: int
) -> dict[int, float]:
    """Each level for every assistant in turn (order alternating), so both see similar noise."""
    loads = {}
    for index, users in enumerate(levels):
        loads[users] = round(proc.load_average(), 2)
        order = assistants if index % 2 == 0 else list(reversed(assistants))
        for assistant in order:
            result = load.run_level(
                assistant.url,
                assistant.conversations,
                users,
                messages,
                cpu_of=assistant.cpu_readers(),
            )
            assistant.figures.setdefault("levels", {})[users] = level_dict(result)
            log(
                f"{assistant.name} {users:>2} users: p50 {result.p50:.0f} ms, p95 "
                f"{result.p95:.0f} ms, {result.throughput:.1f} msg/s, {result.errors} errors"
            )
    return loads


# --- quality -------------------------------------------------------------------------------


def language_detection(limit: int) -> dict[str, Any]:
    from bench.langid import KINDS, configured_backend, default_corpus, evaluate, table
    from bot.core.taxonomy import taxonomy
    from bot.langid.detector import DetectorSettings, LanguageDetector

    corpus = default_corpus()
    if not corpus.is_dir():
        return {"error": f"corpus not found: {corpus}"}
    languages = taxonomy().languages
    backend = configured_backend()
    detector = LanguageDetector(languages, DetectorSettings(backend=backend))
    detector.warm_up()
    results = evaluate(detector, corpus, limit)
    summary = {}
    for kind in KINDS:
        accs = {lang: 100 * results[(kind, lang)]["correct"] / results[(kind, lang)]["n"]
                for lang in languages}  # fmt: skip
        worst = min(accs, key=accs.get)
        summary[kind] = {
            "n": sum(results[(kind, lang)]["n"] for lang in languages),
            "mean": round(statistics.mean(accs.values()), 1),
            "worst": [worst, round(accs[worst], 1)],
            "ms": round(statistics.mean(results[(kind, lang)]["ms"] for lang in languages), 3),
        }
    return {
        "limit": limit,
        "backend": backend,
        "kinds": summary,
        "table": table(backend, languages, results),
    }


def intent_accuracy(model: Path) -> dict[str, Any]:
    import logging

    import structlog

    from bench.eval_nlu import load_test_set, predict, score
    from bot.core.taxonomy import taxonomy

    # Rasa's parse logging defaults to debug when the CLI has not configured it: keep it quiet.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger("rasa").setLevel(logging.WARNING)
    rows = load_test_set(data_path("tests", "nlu_eval"))
    start = time.perf_counter()
    predicted = asyncio.run(predict(model, [text for _, _, text in rows]))
    seconds = time.perf_counter() - start
    per_language = score(rows, predicted)["language"]
    out: dict[str, Any] = {"n": len(rows), "parse_ms": round(1000 * seconds / len(rows), 2)}
    for lang in taxonomy().languages:
        counts = per_language[lang]
        out[lang] = {
            "topic": round(100 * counts["topic_ok"] / max(counts["topic"], 1), 1),
            "oos": round(100 * counts["oos_ok"] / max(counts["oos"], 1), 1),
        }
    return out


# --- main ----------------------------------------------------------------------------------


def isolate(argv: list[str], allowed: bool) -> str:
    """Re-executes this run in a private network namespace when possible; says what holds."""
    if os.environ.get(proc.NETNS_MARKER) == "1":
        proc.loopback_up()
        if proc.outside_unreachable():
            return "private network namespace (only loopback exists)"
        return "network namespace, but outside addresses still reachable"
    if allowed and shutil.which("unshare") and proc.netns_available():
        os.environ[proc.NETNS_MARKER] = "1"
        cmd = ["unshare", "--net", "--map-root-user", sys.executable, "-m", "bench.perf", *argv]
        sys.stdout.flush()
        os.execvp("unshare", cmd)
    return "not isolated: proxies point at a closed local port; sockets watched"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: fewer messages, no training"
    )
    parser.add_argument("--skip-stock", action="store_true", help="reuse the cached stock model")
    parser.add_argument("--out", type=Path, default=data_path("reports", "perf"))
    parser.add_argument("--model", type=Path, default=data_path("models", "kotobot.tar.gz"))
    parser.add_argument("--messages", type=int, default=None, help="per level (200; quick 40)")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument("--langid-limit", type=int, default=None, help="100; quick 20")
    parser.add_argument("--content", choices=("http", "files"), default="http")
    parser.add_argument("--no-train", action="store_true", help="skip training timing")
    parser.add_argument("--no-isolate", action="store_true", help="no network namespace")
    args = parser.parse_args(argv)
    args.messages = args.messages or (40 if args.quick else 200)
    args.langid_limit = args.langid_limit or (20 if args.quick else 100)
    args.levels = tuple(int(level) for level in args.levels.split(","))
    args.train = not (args.quick or args.no_train)
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    isolation = isolate(argv, not args.no_isolate)
    proc.raise_on_sigterm()
    started = time.perf_counter()
    out: Path = args.out.resolve()
    logs = out / "logs"
    if logs.exists():
        shutil.rmtree(logs)
    logs.mkdir(parents=True)
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "command": "python -m bench.perf " + shlex.join(argv),
        "machine": proc.machine(),
        "isolation": isolation,
        "messages": args.messages,
        "levels": list(args.levels),
        "content_source": args.content,
        "load_start": round(proc.load_average(), 2),
        "kotobot_config": pipeline_names(ROOT / "config.yml"),
    }
    log(f"{results['mode']} run; {isolation}")
    registry = proc.ProcessRegistry()
    tmp = Path(tempfile.mkdtemp(prefix="kotobot-perf-"))
    watch = proc.ConnectionWatch(registry.pids)
    try:
        with watch:
            stock_info = prepare_stock(out / "stock", args.skip_stock, registry, tmp, logs)
            stock_dir = out / "stock"
            kotobot = Assistant(
                "kotobot", ROOT, args.model.resolve(), ROOT / "credentials.yml",
                ROOT / "endpoints.yml", load.KOTOBOT_CONVERSATIONS, load.KOTOBOT_FIRST,
                env=kotobot_env(tmp, "", args.content),
                launcher=HARNESS,
            )  # fmt: skip
            stock = Assistant(
                "stock", stock_dir, stock_model(stock_dir), stock_dir / "credentials.yml",
                stock_dir / "endpoints.yml", load.STOCK_CONVERSATIONS, load.STOCK_FIRST,
            )  # fmt: skip
            training: dict[str, Any] = {}
            if args.train:
                training = time_training(registry, stock_dir, tmp, logs)
                stock_info.update(
                    train_seconds=round(training["stock"], 1), train_date=proc.machine()["date"]
                )
                (stock_dir / "stock.json").write_text(json.dumps(stock_info, indent=2), "utf-8")
            elif stock_info.get("train_seconds"):
                training["stock_cached"] = stock_info["train_seconds"]
            results["training"] = training
            results["stock_info"] = stock_info

            fixtures = start_fixtures(registry, tmp, logs)
            kotobot.env = kotobot_env(tmp, fixtures, args.content)
            results["load_cold_start"] = round(proc.load_average(), 2)
            for assistant in (kotobot, stock):
                start_servers(assistant, registry, tmp, logs)
            for assistant in (kotobot, stock):
                log(f"{assistant.name}: warm-up")
                transcript: list[dict[str, Any]] = []
                warm = load.warm_up(assistant.url, assistant.conversations, transcript)
                assistant.figures["warm_up_errors"] = warm.errors
                with open(logs / f"{assistant.name}-transcript.jsonl", "w") as file:
                    for line in transcript:
                        file.write(json.dumps(line, ensure_ascii=False) + "\n")
            results["load_levels"] = measure_load([kotobot, stock], args.levels, args.messages)
            for assistant in (kotobot, stock):
                figures = assistant.figures
                figures["rss_rasa"] = round(proc.peak_rss_mb(assistant.rasa.pid), 1)
                if assistant.actions is not None:
                    figures["rss_actions"] = round(proc.peak_rss_mb(assistant.actions.pid), 1)
                    figures["cpu_total_actions"] = round(proc.cpu_seconds(assistant.actions.pid), 1)
                figures["cpu_total_rasa"] = round(proc.cpu_seconds(assistant.rasa.pid), 1)
                results[assistant.name] = figures
            registry.stop_all()
            results["load_end_of_serving"] = round(proc.load_average(), 2)
            results["conversations"] = {
                name: {
                    "conversations": len(assistant.conversations),
                    "messages": load.message_count(assistant.conversations),
                    "ui_languages": load.languages_in(assistant.conversations),
                }
                for name, assistant in (("kotobot", kotobot), ("stock", stock))
            }

            log(f"language detection ({args.langid_limit} texts per language and kind)")
            results["langid"] = language_detection(args.langid_limit)
            log("held-out intent accuracy (bench.eval_nlu on the Kotobot model)")
            results["intents"] = intent_accuracy(args.model.resolve())
        results["network"] = {"samples": watch.samples, "foreign": sorted(watch.foreign)}
        results["load_end"] = round(proc.load_average(), 2)
        results["runtime_s"] = round(time.perf_counter() - started, 1)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
        report = write_report(results, out)
        log(f"wrote {report} in {results['runtime_s'] / 60:.1f} min")
        return 0
    finally:
        registry.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
