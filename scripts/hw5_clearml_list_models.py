"""hw5-list-models: the model registry ranked by accuracy, with the report's metadata."""

import sys

import hydra
import pandas as pd
from omegaconf import DictConfig

from iris_mlops import cli, registry
from iris_mlops.errors import ConfigError, IrisMlopsError

FORMATS = ("table", "csv")


@hydra.main(version_base="1.3", config_path="../conf", config_name="list_models")
def main(cfg: DictConfig) -> None:
    def body() -> None:
        if cfg.format not in FORMATS:
            raise ConfigError(
                f"format={cfg.format!r} is not known; use one of {', '.join(FORMATS)}."
            )
        registry.check_top_k(cfg.top_k)
        registry.check_filters(cfg.group, cfg.estimator, cfg.tags, cfg.mark_best)
        rows = registry.query_registry(
            cfg.clearml.project, cfg.clearml.model_name, cfg.group, cfg.estimator, list(cfg.tags)
        )
        ranked = registry.rank_models(rows, cfg.top_k)
        if not ranked:
            raise IrisMlopsError(
                f"No registered model {cfg.clearml.model_name!r} matches (group={cfg.group}, "
                f"estimator={cfg.estimator}, tags={list(cfg.tags)}); train one with hw5-train "
                "first."
            )
        if cfg.format == "csv":
            pd.DataFrame(ranked, columns=registry.REGISTRY_COLUMNS).to_csv(sys.stdout, index=False)
        else:
            shown = [c for c in registry.REGISTRY_COLUMNS if c not in ("metrics_json", "url")]
            cli.print_table(ranked, shown)
            print(f"{len(ranked)} of {len(rows)} registered models shown")
        if cfg.mark_best:
            registry.mark_best(ranked[0]["model_id"], cfg.best_tag, rows)

    cli.run(body)


if __name__ == "__main__":
    main()
