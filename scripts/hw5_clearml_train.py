"""hw5-train: train one model, tracked in ClearML, and register it."""

import json
from dataclasses import asdict
from pathlib import Path

import hydra
from omegaconf import DictConfig

from iris_mlops import cli
from iris_mlops.training import train


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> None:
    def body() -> None:
        result = train(cfg)
        cli.print_table([{"metric": k, "value": v} for k, v in result.metrics.items()])
        print(f"task: {result.task_id}  model: {result.model_id}  ({result.seconds:.1f} s)")
        if result.task_link != result.task_id:
            print(f"results: {result.task_link}")
        if cfg.result_file:
            Path(cfg.result_file).write_text(json.dumps(asdict(result)))

    cli.run(body)


if __name__ == "__main__":
    main()
