"""hw5-smoke: check that the ClearML backend answers, accepts the keys and stores a task."""

import hydra
from omegaconf import DictConfig

from iris_mlops import cli
from iris_mlops.smoke import run_smoke


@hydra.main(version_base="1.3", config_path="../conf", config_name="smoke")
def main(cfg: DictConfig) -> None:
    def body() -> None:
        checks = run_smoke(cfg.clearml.project)
        cli.print_table([{"check": c.part, "result": "ok", "detail": c.detail} for c in checks])
        print("smoke check passed")

    cli.run(body)


if __name__ == "__main__":
    main()
