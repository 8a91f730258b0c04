"""Where the Rasa server's time goes: CPU per message, and a py-spy profile of it.

    python -m bench.profile [--messages 300] [--model models/kotobot.tar.gz] [--out reports/profile]

Starts the real action server and Rasa server (bot/tools/harness.py, content from the bundled
files), sends bench.perf's Kotobot conversations one message at a time, and reports the Rasa
server's CPU time per message (from /proc, whatever else the machine is doing) and p50 latency. When
py-spy is installed (``pip install py-spy==0.4.3``; not a project dependency) it also samples the
server and prints the share of samples under each stage of Rasa's message handling, with the raw
flame-graph data in OUT/rasa-pyspy.txt. This is how issue #6's levers were found and checked
(docs/performance.md); ``make bench`` gives the comparison with stock Rasa.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench import perf_load as load
from bot.core.paths import data_path
from bot.tools.harness import running_bot

# Stages of rasa.core.processor's message handling (and our code), as py-spy names frames.
STAGES = {
    "NLU parse": "parse_message (rasa/core/processor.py",
    "tracker read": "get_tracker (rasa/core/processor.py",
    "policy predictions": "_predict_next_with_tracker (rasa/core/processor.py",
    "custom actions (HTTP)": "run (rasa/core/actions/action.py",
    "tracker write": "save_tracker (rasa/core/processor.py",
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stage_shares(raw: Path) -> dict[str, float]:
    """Share of py-spy samples under each stage (a sample counts for its first stage)."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text("utf-8").splitlines():
        stack, _, number = line.rpartition(" ")
        total += int(number)
        stage = next((name for name, frame in STAGES.items() if frame in stack), "other")
        counts[stage] += int(number)
    return {name: counts[name] / total for name in [*STAGES, "other"]} if total else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=data_path("models", "kotobot.tar.gz"))
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--out", type=Path, default=data_path("reports", "profile"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    env = {"KOTOBOT_CONTENT_SOURCE": "files"}
    with running_bot(args.model, args.out / "logs", env=env) as bot:
        port = bot.base_url.rsplit(":", 1)[1]
        pid = int(subprocess.check_output(["pgrep", "-f", "--", f"--port {port}"]).split()[0])
        for conversation in load.KOTOBOT_CONVERSATIONS:  # warm up every path once
            sender = uuid.uuid4().hex
            for text, metadata in conversation:
                bot.say(sender, text, metadata)
        raw = args.out / "rasa-pyspy.txt"
        spy = None
        if py_spy:
            spy = subprocess.Popen(
                [py_spy, "record", "-p", str(pid), "-o", str(raw), "-f", "raw", "-r", "200",
                 "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1)
        latencies: list[float] = []
        cpu_before = cpu_seconds(pid)
        for conversation in itertools.cycle(load.KOTOBOT_CONVERSATIONS):
            sender = uuid.uuid4().hex
            for text, metadata in conversation:
                start = time.perf_counter()
                bot.say(sender, text, metadata)
                latencies.append(time.perf_counter() - start)
            if len(latencies) >= args.messages:
                break
        cpu = cpu_seconds(pid) - cpu_before
        if spy:
            spy.send_signal(2)
            spy.wait(timeout=60)
    print(
        f"{len(latencies)} messages, one at a time: Rasa server CPU "
        f"{cpu / len(latencies) * 1000:.1f} ms per message, "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms"
    )
    if spy and raw.exists():
        for name, share in stage_shares(raw).items():
            print(f"  {share * 100:5.1f}%  {name}")
        print(f"py-spy raw samples: {raw}")
    else:
        print("(install py-spy for the breakdown)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
