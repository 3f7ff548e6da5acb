"""hw5-scheduler: launch hw5-pipeline from a ClearML TaskScheduler, once or every hour."""

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from iris_mlops import cli, scheduling
from iris_mlops.config import check_positive, check_text_list

PIPELINE_SCRIPT = Path(__file__).with_name("hw5_clearml_pipeline.py")


@hydra.main(version_base="1.3", config_path="../conf", config_name="scheduler")
def main(cfg: DictConfig) -> None:
    def body() -> int:
        scheduling.check_schedule(cfg.mode, cfg.minute)
        check_positive(cfg.demo_timeout_s, "demo_timeout_s")
        overrides = check_text_list(cfg.pipeline_overrides, "pipeline_overrides")
        command = [sys.executable, str(PIPELINE_SCRIPT), *overrides]
        launcher = scheduling.PipelineLauncher(command)
        scheduler = scheduling.create_scheduler(
            cfg.clearml.project, cfg.task_name, launcher, cfg.mode, cfg.minute
        )
        if cfg.mode == "hourly":
            cli.log.info("Scheduling hw5-pipeline at minute %d of every UTC hour", cfg.minute)
            scheduler.start()
        return scheduling.run_demo(scheduler, launcher, cfg.demo_timeout_s)

    cli.run(body)


if __name__ == "__main__":
    main()
