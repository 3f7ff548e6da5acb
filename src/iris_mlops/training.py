"""One tracked training run: fit, evaluate, report to ClearML and register the model."""

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from iris_mlops import registry, tracking
from iris_mlops.config import check_names, check_split, check_text_list, to_dict

# scikit-learn, pandas and matplotlib are imported where they are used: they take seconds,
# and a dead server or a bad value should be reported before that

if TYPE_CHECKING:
    from iris_mlops.evaluation import Evaluation

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path("reports/hw5/models")


@dataclass(frozen=True)
class TrainingResult:
    """What a training run produced and where ClearML keeps it."""

    task_id: str
    task_link: str
    model: str
    model_id: str | None
    metrics: dict[str, float]
    seconds: float


def check_train_config(cfg: DictConfig) -> None:
    """Reject bad values before any task is created, so nothing is left half-made."""
    from iris_mlops.models import build_model

    check_split(cfg.test_size, cfg.seed)
    check_names(cfg.clearml, ("project", "task_name", "model_name", "group"))
    check_text_list(cfg.clearml.tags, "clearml.tags")
    build_model(cfg.model, cfg.seed)


def train(cfg: DictConfig) -> TrainingResult:
    """Run one tracked training; the task is marked failed when any step fails."""
    # the cheap checks first, so that test_size=1.5 never starts or waits for a server
    check_split(cfg.test_size, cfg.seed)
    tracking.watch_server(tracking.select_backend())
    check_train_config(cfg)
    started = time.monotonic()
    tags = registry.model_tags(cfg.model.name, cfg.clearml.group, list(cfg.clearml.tags))
    from clearml import Task

    # a pipeline step's task belongs to the pipeline, which closes it
    owns_task = Task.current_task() is None
    task = tracking.start_task(cfg.clearml.project, cfg.clearml.task_name, tags, to_dict(cfg))
    try:
        result = _fit_and_report(cfg, task, tags, started)
    except BaseException as error:
        if owns_task:
            task.mark_failed(status_reason=f"{type(error).__name__}: {error}", force=True)
        raise
    if owns_task:
        task.close()
    return result


def _fit_and_report(cfg: DictConfig, task, tags: list[str], started: float) -> TrainingResult:
    from iris_mlops.data import load_split
    from iris_mlops.evaluation import evaluate
    from iris_mlops.models import build_model

    split = load_split(cfg.test_size, cfg.seed)
    estimator = build_model(cfg.model, cfg.seed)

    log.info("Fitting %s on %d samples", cfg.model.name, len(split.X_train))
    estimator.fit(split.X_train, split.y_train)

    log.info("Evaluating %s on %d held-out samples", cfg.model.name, len(split.X_test))
    evaluation = evaluate(split.y_test, estimator.predict(split.X_test), split.class_names)

    report_evaluation(task, evaluation, title=f"{cfg.model.name} confusion matrix")

    model_id = None
    if tracking.select_backend().has_server:
        metadata = registry.model_metadata(
            cfg.model.name, cfg.seed, cfg.test_size, evaluation.metrics
        )
        model = registry.register_model(
            task, estimator, cfg.clearml.model_name, tags, metadata, WEIGHTS_DIR
        )
        model_id = model.id
    else:
        log.warning("Offline mode: the model is not registered (the registry needs a server)")

    return TrainingResult(
        task_id=task.id,
        task_link=tracking.task_url(task.id),
        model=cfg.model.name,
        model_id=model_id,
        metrics=evaluation.metrics,
        seconds=time.monotonic() - started,
    )


def report_evaluation(task, evaluation: "Evaluation", title: str) -> None:
    """Scalars, single values, the confusion-matrix figure and the two artifacts of a run."""
    import matplotlib.pyplot as plt

    from iris_mlops.evaluation import confusion_figure

    logger = task.get_logger()
    log.info("Reporting %d metrics to task %s", len(evaluation.metrics), task.id)
    for name, value in evaluation.metrics.items():
        logger.report_scalar(title=name, series="test", value=value, iteration=0)
        logger.report_single_value(name, value)

    figure = confusion_figure(evaluation, title)
    logger.report_matplotlib_figure(
        title="confusion_matrix", series="test", figure=figure, iteration=0, report_image=False
    )
    plt.close(figure)

    # a later step (comparison, select_best) may read these right away: upload synchronously
    task.upload_artifact("metrics", artifact_object=evaluation.metrics, wait_on_upload=True)
    report: dict[str, Any] = {"text": evaluation.report_text, **evaluation.report}
    task.upload_artifact("classification_report", artifact_object=report, wait_on_upload=True)
