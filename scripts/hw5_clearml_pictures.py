"""hw5-pictures: draw the report's pictures from the runs, models and pipelines on the server."""

from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from iris_mlops import cli, pictures


@hydra.main(version_base="1.3", config_path="../conf", config_name="pictures")
def main(cfg: DictConfig) -> None:
    def body() -> int:
        settings = pictures.Settings(
            project=cfg.clearml.project,
            model_name=cfg.clearml.model_name,
            group=cfg.group,
            experiments_top_k=cfg.experiments_top_k,
            models_top_k=cfg.models_top_k,
            metric=cfg.metric,
            tiebreak=cfg.tiebreak,
            pipeline_name=cfg.pipeline_name,
            pipeline_group=cfg.pipeline_group,
        )
        only = OmegaConf.to_object(cfg.only) if OmegaConf.is_list(cfg.only) else [cfg.only]
        pictures.check_settings(settings, only)
        written, skipped = pictures.generate(settings, Path(cfg.out_dir), only)
        for path in written:
            print(f"wrote {path}")
        if skipped:
            cli.log.error("Not drawn: %s (see the messages above)", ", ".join(skipped))
            return 1
        return 0

    cli.run(body)


if __name__ == "__main__":
    main()
