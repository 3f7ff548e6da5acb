"""Metrics, classification report and confusion-matrix figure of a fitted classifier."""

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # figures are reported or saved, never shown

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)

METRIC_NAMES = ("accuracy", "f1_macro", "precision_macro", "recall_macro")


@dataclass(frozen=True)
class Evaluation:
    """What one model scored on the test split."""

    metrics: dict[str, float]
    report: dict
    report_text: str
    confusion: np.ndarray
    class_names: list[str]


def evaluate(y_true, y_pred, class_names: list[str]) -> Evaluation:
    """Score predictions with the report's four metrics, macro-averaged over the classes."""
    metrics = {
        "accuracy": accuracy_score(y_true, y_pred),
        "f1_macro": f1_score(y_true, y_pred, average="macro"),
        "precision_macro": precision_score(y_true, y_pred, average="macro", zero_division=0),
        "recall_macro": recall_score(y_true, y_pred, average="macro", zero_division=0),
    }
    labels = list(range(len(class_names)))
    report_args = {"labels": labels, "target_names": class_names, "zero_division": 0}
    return Evaluation(
        metrics={name: float(value) for name, value in metrics.items()},
        report=classification_report(y_true, y_pred, output_dict=True, **report_args),
        report_text=classification_report(y_true, y_pred, digits=4, **report_args),
        confusion=confusion_matrix(y_true, y_pred, labels=labels),
        class_names=class_names,
    )


def confusion_figure(evaluation: Evaluation, title: str) -> Figure:
    """The confusion matrix with class names on both axes."""
    figure, axes = plt.subplots(figsize=(5, 4.5))
    display = ConfusionMatrixDisplay(evaluation.confusion, display_labels=evaluation.class_names)
    display.plot(ax=axes, cmap="Blues", colorbar=False)
    axes.set_title(title)
    figure.tight_layout()
    return figure
