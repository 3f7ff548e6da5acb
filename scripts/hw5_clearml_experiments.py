"""hw5-experiments: run the sweep of nine tracked experiments and summarise it."""

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from iris_mlops import cli, sweep
from iris_mlops.config import check_text_list

TRAIN_SCRIPT = Path(__file__).with_name("hw5_clearml_train.py")
CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


@hydra.main(version_base="1.3", config_path="../conf", config_name="experiments")
def main(cfg: DictConfig) -> None:
    def body() -> int:
        runs = check_text_list(cfg.runs, "runs")
        overrides = check_text_list(cfg.overrides, "overrides")
        sweep.check_sweep(runs, cfg.parallel, sweep.known_experiments(CONF_DIR))
        outcomes = sweep.run_sweep(
            [sys.executable, str(TRAIN_SCRIPT)], runs, cfg.group, overrides, cfg.parallel
        )
        cli.print_table(
            [
                {
                    "experiment": o.experiment,
                    "model": o.model,
                    "status": "ok" if o.ok else "FAILED",
                    "accuracy": o.accuracy,
                    "seconds": f"{o.seconds:.1f}",
                    "task": o.task_id or o.error,
                }
                for o in outcomes
            ]
        )
        failed = [o.experiment for o in outcomes if not o.ok]
        if failed:
            cli.log.error("%d of %d runs failed: %s", len(failed), len(runs), ", ".join(failed))
            return 1
        return 0

    cli.run(body)


if __name__ == "__main__":
    main()
