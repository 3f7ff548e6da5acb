"""The estimators of the `model` config group, built from their hyperparameters."""

from collections.abc import Callable, Mapping
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from iris_mlops.errors import ConfigError


def _scaled(estimator: BaseEstimator) -> Pipeline:
    # distance- and gradient-based models need features on one scale; trees do not
    return make_pipeline(StandardScaler(), estimator)


ESTIMATORS: dict[str, Callable[..., BaseEstimator]] = {
    "logreg": LogisticRegression,
    "rf": RandomForestClassifier,
    "svc": SVC,
}
_NEEDS_SCALING = {"logreg", "svc"}


def model_params(model_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The estimator's hyperparameters: the model config without its `name`."""
    return {key: value for key, value in model_cfg.items() if key != "name"}


def build_model(model_cfg: Mapping[str, Any], seed: int) -> BaseEstimator:
    """An unfitted estimator for `model_cfg`; unknown names and parameters are a ConfigError."""
    name = model_cfg.get("name")
    if name not in ESTIMATORS:
        raise ConfigError(
            f"model.name={name!r} is not a known model; choose one of "
            f"{', '.join(sorted(ESTIMATORS))}."
        )
    estimator_class = ESTIMATORS[name]
    params = model_params(model_cfg)
    allowed = estimator_class().get_params()
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ConfigError(
            f"model.{unknown[0]} is not a parameter of {estimator_class.__name__} "
            f"(model={name}); allowed: {', '.join(sorted(allowed))}."
        )
    if "random_state" in allowed:
        params.setdefault("random_state", seed)
    try:
        estimator = estimator_class(**params)
        # scikit-learn checks parameter values only at fit; check them now for a clear error
        estimator._validate_params()
    except (TypeError, ValueError) as error:
        raise ConfigError(f"model={name} has an invalid parameter value: {error}") from error
    return _scaled(estimator) if name in _NEEDS_SCALING else estimator
