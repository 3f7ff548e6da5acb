"""Checks of the Hydra config values that the scripts share."""

from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from iris_mlops.errors import ConfigError

IRIS_SAMPLES = 150
IRIS_CLASSES = 3


def to_dict(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as plain containers, as it is connected to ClearML."""
    return OmegaConf.to_container(cfg, resolve=True)


def check_split(test_size: Any, seed: Any) -> None:
    """`test_size` must leave every class in both parts; `seed` must be a valid random state."""
    if isinstance(test_size, bool) or not isinstance(test_size, int | float):
        raise ConfigError(f"test_size={test_size!r} is not a number; use a fraction such as 0.2.")
    low, high = IRIS_CLASSES / IRIS_SAMPLES, 1 - IRIS_CLASSES / IRIS_SAMPLES
    if not low <= test_size <= high:
        raise ConfigError(
            f"test_size={test_size!r} is out of range; use a fraction from {low:.2f} to "
            f"{high:.2f} so that each of the {IRIS_CLASSES} classes is in both parts."
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ConfigError(f"seed={seed!r} is not valid; use a whole number from 0 to 2**32 - 1.")


def check_names(clearml_cfg: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    """Project, task, model and group names must be non-empty text."""
    for key in keys:
        value = clearml_cfg.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"clearml.{key}={value!r} must be a non-empty name.")


def check_flag(value: Any, key: str) -> None:
    """A switch must be a real boolean: Hydra keeps `mark_best=maybe` as a truthy string."""
    if not isinstance(value, bool):
        raise ConfigError(f"{key}={value!r} is not a switch; use true or false.")


def check_text_list(value: Any, key: str) -> list[str]:
    """A list of non-empty texts, such as tags or overrides, as a plain list."""
    items = OmegaConf.to_container(value) if isinstance(value, ListConfig) else value
    # a bare string would otherwise be taken letter by letter
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise ConfigError(
            f"{key}={items!r} is not a list of non-empty texts; use a list such as {key}=[a,b]."
        )
    return items


def check_positive(value: Any, key: str) -> None:
    """A duration or interval must be a number above zero."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"{key}={value!r} is not valid; use a number above 0.")
