"""hw5-pipeline: train three models in parallel, select the best, notify; without an agent."""

import hydra
from omegaconf import DictConfig, OmegaConf

from iris_mlops import cli, pipeline
from iris_mlops.config import check_text_list, to_dict
from iris_mlops.errors import ConfigError
from iris_mlops.training import check_train_config


def step_config(cfg: DictConfig, model: str, group: str) -> dict:
    """The hw5-train config of one training step, checked before anything starts."""
    overrides = cfg.step_overrides.get(model)
    if overrides is None:
        raise ConfigError(f"step_overrides.{model} is missing; use a list of hw5-train overrides.")
    overrides = check_text_list(overrides, f"step_overrides.{model}")
    train_cfg = hydra.compose(
        config_name="train",
        overrides=[
            f"model={model}",
            f"seed={cfg.seed}",
            f"test_size={cfg.test_size}",
            f"clearml.project={cfg.clearml.project}",
            f"clearml.model_name={cfg.clearml.model_name}",
            f"clearml.group={group}",
            f"clearml.task_name=train_{model}",
            *overrides,
        ],
    )
    check_train_config(train_cfg)
    return to_dict(train_cfg)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


@hydra.main(version_base="1.3", config_path="../conf", config_name="pipeline")
def main(cfg: DictConfig) -> None:
    def body() -> int:
        settings = {
            **OmegaConf.to_container(cfg.pipeline),
            "project": cfg.clearml.project,
            "model_name": cfg.clearml.model_name,
        }
        pipeline.check_settings(settings)
        group = pipeline.new_run_group(cfg.pipeline.group_prefix)
        configs = {model: step_config(cfg, model, group) for model in pipeline.STEP_MODELS}
        result = pipeline.run(settings, configs, group)
        cli.print_table(
            [
                {
                    "step": s.name,
                    "status": s.status,
                    "seconds": _seconds(s.seconds),
                    "task": s.task_id,
                }
                for s in result.steps
            ]
        )
        if result.ok:
            winner = result.winner
            print(
                f"winner: {winner['winner']} (accuracy {winner['accuracy']:.4f}, model "
                f"{winner['model_id']}); pipeline {result.pipeline_id}, group {group}"
            )
            return 0
        cli.log.error("Pipeline %s failed; see the steps above", result.pipeline_id)
        return 1

    cli.run(body)


if __name__ == "__main__":
    main()
