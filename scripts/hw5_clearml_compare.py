"""hw5-compare: rank a group's experiments (top-k) and write the summary CSV and chart."""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from iris_mlops import cli, comparison, registry
from iris_mlops.config import check_flag
from iris_mlops.errors import IrisMlopsError


@hydra.main(version_base="1.3", config_path="../conf", config_name="compare")
def main(cfg: DictConfig) -> None:
    def body() -> None:
        comparison.check_ranking(cfg.top_k, cfg.metric, cfg.tiebreak)
        check_flag(cfg.mark_best, "mark_best")
        runs = comparison.fetch_group_runs(cfg.clearml.project, cfg.group)
        if not runs:
            raise IrisMlopsError(
                f"No experiments of group {cfg.group!r} in project {cfg.clearml.project!r}; run "
                "hw5-experiments first, or pass group=<name> of an existing sweep."
            )
        ranking = comparison.rank_runs(runs, cfg.top_k, cfg.metric, cfg.tiebreak)
        comparison.write_summary(ranking, Path(cfg.csv_path), Path(cfg.chart_path), cfg.metric)
        cli.print_table(ranking.table.drop(columns=["created", "link"]).to_dict("records"))
        print(
            f"{len(ranking.table)} of {ranking.runs_found} runs of group {cfg.group!r} "
            f"({ranking.runs_without_metrics} without metrics); summary: {cfg.csv_path}"
        )
        if cfg.mark_best:
            best_task = ranking.table.iloc[0]["task_id"]
            rows = registry.query_registry(
                cfg.clearml.project, cfg.clearml.model_name, cfg.group, None, []
            )
            best = [row for row in rows if row["task_id"] == best_task]
            if not best:
                raise IrisMlopsError(f"The best run {best_task} has no registered model.")
            registry.mark_best(best[0]["model_id"], cfg.best_tag, rows)

    cli.run(body)


if __name__ == "__main__":
    main()
