"""Wall-time figures of the scripts and the local server, printed as one table per run."""

import argparse
import contextlib
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from tabulate import tabulate

from clearml_local import ServerInfo, ensure_running, stop_server
from clearml_local.client import ApiClient

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
METRICS = ("accuracy", "f1_macro", "precision_macro", "recall_macro")
SECTIONS = ("overhead", "sweep", "compare", "server")


def api_client(info: ServerInfo) -> ApiClient:
    return ApiClient(info.api_url, info.access_key, info.secret_key)


@contextlib.contextmanager
def fresh_server() -> Iterator[tuple[ServerInfo, Path]]:
    """A local server of its own in a temporary folder on free ports, and a working folder."""
    with tempfile.TemporaryDirectory(prefix="iris-bench-") as folder:
        data_dir = Path(folder) / "server"
        info = ensure_running(data_dir, api_port=0, files_port=0, idle_timeout=3600)
        work = Path(folder) / "work"
        work.mkdir()
        try:
            yield info, work
        finally:
            stop_server(data_dir)


def script_env(extra: dict[str, str], home: Path) -> dict[str, str]:
    # the project's own SDK defaults only: no user clearml.conf, no inherited backend
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "IRIS_MLOPS_"))}
    return {**base, "HOME": str(home), **extra}


def run_script(name: str, *overrides: str, env: dict, cwd: Path) -> tuple[float, str]:
    """Wall time of one script process and its standard output; a failure stops the benchmark."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / f"hw5_clearml_{name}.py"), *overrides],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"hw5-{name} {' '.join(overrides)} failed:\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def median_of(repeats: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(repeats))


def bench_overhead(args) -> list[list]:
    """One hw5-train process on the local server against the same run in SDK offline mode."""
    with fresh_server() as (info, work):
        env = script_env(info.environment(), work)
        tracked = median_of(args.repeats, lambda: run_script("train", env=env, cwd=work)[0])
    with tempfile.TemporaryDirectory(prefix="iris-bench-offline-") as folder:
        cache = Path(folder) / "cache"
        env = script_env(
            {"CLEARML_OFFLINE_MODE": "1", "CLEARML_CACHE_DIR": str(cache)}, Path(folder)
        )
        offline = median_of(
            args.repeats, lambda: run_script("train", env=env, cwd=Path(folder))[0]
        )
    return [
        [f"hw5-train, local server (median of {args.repeats})", f"{tracked:.2f} s"],
        [f"hw5-train, SDK offline mode (median of {args.repeats})", f"{offline:.2f} s"],
        ["tracking overhead: local server ÷ offline", f"{tracked / offline:.2f}x"],
    ]


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def training_speedup(api: ApiClient, group: str) -> tuple[float, float]:
    """Sum of the training steps' durations and the wall time of the training stage."""
    tasks = api.call(
        "tasks.get_all",
        tags=[f"group:{group}"],
        name="^train_",
        only_fields=["name", "started", "completed"],
    )["tasks"]
    steps = [task for task in tasks if task.get("started") and task.get("completed")]
    total = sum(_seconds_between(t["started"], t["completed"]) for t in steps)
    first = min(datetime.fromisoformat(t["started"]) for t in steps)
    last = max(datetime.fromisoformat(t["completed"]) for t in steps)
    return total, (last - first).total_seconds()


def bench_sweep(args) -> list[list]:
    """The nine-run sweep and the pipeline, with the pipeline's parallel training speed-up."""
    rows = []
    with fresh_server() as (info, work):
        env = script_env(info.environment(), work)
        seconds, _ = run_script("experiments", env=env, cwd=work)
        rows.append(["hw5-experiments, nine runs (parallel=2)", f"{seconds:.1f} s"])
    with fresh_server() as (info, work):
        env = script_env(info.environment(), work)
        seconds, stdout = run_script("pipeline", env=env, cwd=work)
        group = re.search(r"group (hw5-pipe-[\w-]+)", stdout).group(1)
        total, stage = training_speedup(api_client(info), group)
    rows += [
        ["hw5-pipeline", f"{seconds:.1f} s"],
        ["pipeline: sum of the 3 training steps", f"{total:.1f} s"],
        ["pipeline: wall time of the training stage", f"{stage:.1f} s"],
        ["pipeline: parallel speed-up of training", f"{total / stage:.2f}x"],
    ]
    return rows


def seed_runs(api: ApiClient, project: str, group: str, count: int) -> None:
    """`count` tasks of the group, each with the four metrics as its last values."""
    for number in range(count):
        scores = dict.fromkeys(METRICS, (number % 997) / 1000)
        api.create_scored_task(project, f"run-{number}", [f"group:{group}"], scores)


def bench_compare(args) -> list[list]:
    """hw5-compare against a group of growing size; a fresh server for each size."""
    rows, times = [], []
    for size in args.compare_sizes:
        with fresh_server() as (info, work):
            api = api_client(info)
            name = f"bench-compare-{size}"
            project = api.call("projects.create", name=name)["id"]
            seeded = time.perf_counter()
            seed_runs(api, project, "bench", size)
            seeding = time.perf_counter() - seeded
            env = script_env(info.environment(), work)
            seconds, _ = run_script(
                "compare", "group=bench", f"clearml.project={name}", env=env, cwd=work
            )
        growth = ""
        if times:
            growth = (
                f", x{(seconds / times[-1][1]) ** (1 / _decades(times[-1][0], size)):.2f} per 10x"
            )
        times.append((size, seconds))
        rows.append(
            [
                f"hw5-compare, {size:,} runs in the group",
                f"{seconds:.1f} s{growth} (seeding took {seeding:.0f} s)",
            ]
        )
    return rows


def _decades(small: int, large: int) -> float:
    return math.log10(large / small)


def bench_server(args) -> list[list]:
    """The local server alone: scalar events accepted per second, and task queries."""
    with fresh_server() as (info, _):
        api = api_client(info)
        project = api.call("projects.create", name="bench-server")["id"]
        rate = _event_rate(api, project, args.batches, args.batch_size)
        started = time.perf_counter()
        for number in range(args.tasks):
            api.call(
                "tasks.create",
                name=f"t-{number}",
                type="training",
                project=project,
                tags=[f"n:{number % 1000}"],
            )
        creating = args.tasks / (time.perf_counter() - started)
        page = _latency(
            args.repeats_api,
            lambda: api.call(
                "tasks.get_all",
                project=[project],
                page=0,
                page_size=500,
                order_by=["-created"],
                only_fields=["id", "name", "status", "created"],
            ),
        )
        tagged = _latency(
            args.repeats_api,
            lambda: api.call("tasks.get_all", tags=["n:7"], only_fields=["id", "name"]),
        )
    return [
        [
            f"events.add_batch, {args.batches} batches of {args.batch_size}",
            f"{rate:,.0f} events/s",
        ],
        [f"tasks.create, {args.tasks:,} tasks", f"{creating:,.0f} tasks/s"],
        [f"tasks.get_all, page of 500 of {args.tasks:,} (median)", f"{page * 1000:.0f} ms"],
        [f"tasks.get_all, tag filter over {args.tasks:,} (median)", f"{tagged * 1000:.0f} ms"],
    ]


def _event_rate(api: ApiClient, project: str, batches: int, size: int) -> float:
    """Scalar events per second that events.add_batch accepts for one task."""
    task = api.call("tasks.create", name="events", type="training", project=project)["id"]
    batch = [
        {
            "type": "training_stats_scalar",
            "task": task,
            "metric": f"m{i % 10}",
            "variant": "v",
            "value": i / 7,
            "iter": i,
        }
        for i in range(size)
    ]
    started = time.perf_counter()
    for _ in range(batches):
        api.events(batch)
    return size * batches / (time.perf_counter() - started)


def _latency(repeats: int, call: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def machine() -> list[list]:
    import clearml

    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        names = re.findall(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = names[0] if names else cpu
    return [
        ["CPU", cpu],
        ["cores (usable)", f"{len(os.sched_getaffinity(0))} of {os.cpu_count()}"],
        ["Python", platform.python_version()],
        ["clearml", clearml.__version__],
        ["system", platform.platform()],
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--repeats", type=int, default=3, help="hw5-train runs per backend")
    parser.add_argument("--compare-sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--tasks", type=int, default=10_000, help="tasks stored for get_all")
    parser.add_argument("--batches", type=int, default=40, help="events.add_batch calls")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--repeats-api", type=int, default=7, help="get_all calls timed")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.compare_sizes, args.tasks, args.batches = 1, [10, 100], 500, 4
        args.sections = [s for s in args.sections if s != "sweep"]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    benches = {
        "overhead": bench_overhead,
        "sweep": bench_sweep,
        "compare": bench_compare,
        "server": bench_server,
    }
    rows = []
    for section in args.sections:
        started = time.perf_counter()
        rows += [[section, *row] for row in benches[section](args)]
        print(f"{section}: done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(tabulate(rows, headers=["section", "measure", "value"]))
    print()
    print(tabulate(machine(), headers=["machine", ""]))


if __name__ == "__main__":
    main()
