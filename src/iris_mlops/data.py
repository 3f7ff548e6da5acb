"""The Iris data set and its reproducible train/test split."""

from dataclasses import dataclass

import pandas as pd
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split


@dataclass(frozen=True)
class Split:
    """Features and labels of one stratified train/test split."""

    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    class_names: list[str]


def load_split(test_size: float, seed: int) -> Split:
    """Split scikit-learn's bundled Iris set, stratified so every class is in both parts."""
    iris = load_iris(as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        iris.data,
        iris.target,
        test_size=test_size,
        random_state=seed,
        stratify=iris.target,
    )
    return Split(X_train, X_test, y_train, y_test, list(iris.target_names))
