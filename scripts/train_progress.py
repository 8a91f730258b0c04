"""`rasa train` with a progress line per component and a heartbeat while one trains.

Rasa logs "Starting to train component X" / "Finished training component X" (or "Restored
component X from cache") for each trainable node of the graph, but not how many there are, and the
intent classifier then trains for minutes in silence. This wrapper counts the trainable nodes of
config.yml's graph, prints ``[k/N, p%]`` as they finish, says every HEARTBEAT seconds which one is
still running, and drops library warnings that are noise to someone waiting (deprecations,
scikit-learn's convergence notes). Everything else Rasa prints is passed through; the exit code is
Rasa's. Usage: ``python scripts/train_progress.py [rasa train arguments...]``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

HEARTBEAT = 30.0
STARTED = re.compile(r"Starting to train component '([^']+)'")
DONE = re.compile(r"(?:Finished training|Restored) component '([^']+)'")
NOISE = re.compile(
    r"(DeprecationWarning|ConvergenceWarning|MovedIn20Warning|UserWarning|FutureWarning|"
    r"tensorflow/|warnings\.warn\(|To enable the following instructions)"
)


def trainable_nodes(config_path: str) -> int:
    """How many graph nodes `rasa train` will train (or restore) for this configuration."""
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType
    from rasa.shared.utils.io import read_config_file

    config = read_config_file(config_path)
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    graph = recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH)
    return sum(
        1 for node in graph.train_schema.nodes.values() if node.is_target and not node.is_input
    )


def config_argument(arguments: list[str]) -> str:
    for index, argument in enumerate(arguments[:-1]):
        if argument in ("--config", "-c"):
            return arguments[index + 1]
    return "config.yml"


def main(arguments: list[str]) -> int:
    total = trainable_nodes(config_argument(arguments))
    start = time.monotonic()
    state = {"running": "reading the training data", "since": start, "done": 0}
    finished = threading.Event()

    def say(line: str) -> None:
        print(f"train: {line} ({time.monotonic() - start:.0f} s)", flush=True)

    def heartbeat() -> None:
        while not finished.wait(HEARTBEAT):
            busy = time.monotonic() - state["since"]
            say(f"[{state['done']}/{total}] still {state['running']}, for {busy:.0f} s")

    threading.Thread(target=heartbeat, daemon=True).start()
    say(f"{total} components to train")
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa", "train", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    assert process.stdout is not None
    skip_source_line = False
    for line in process.stdout:
        if skip_source_line and line.startswith("  "):
            skip_source_line = False
            continue  # the source line Python prints under a warning
        skip_source_line = False
        if NOISE.search(line):
            skip_source_line = True
            continue
        sys.stdout.write(line)
        if match := STARTED.search(line):
            state.update(running=f"training {match.group(1)}", since=time.monotonic())
        elif match := DONE.search(line):
            state["done"] += 1
            percent = 100 * state["done"] / max(total, 1)
            say(f"[{state['done']}/{total}, {percent:.0f}%] {match.group(1)} done")
            following = "saving the model" if state["done"] >= total else "between components"
            state.update(running=following, since=time.monotonic())
    code = process.wait()
    finished.set()
    say("model saved" if code == 0 else f"rasa train failed (exit code {code})")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
