"""What every script shares: one clear message and a non-zero exit for a failure."""

import logging
import sys
from collections.abc import Callable, Iterable, Sequence

from tabulate import tabulate

from iris_mlops.errors import IrisMlopsError

log = logging.getLogger("iris_mlops")


def run(body: Callable[[], int | None]) -> None:
    """Run a script's body; an IrisMlopsError becomes one logged paragraph and exit code 1."""
    try:
        code = body() or 0
    except IrisMlopsError as error:
        log.error("%s", error)
        sys.exit(1)
    except KeyboardInterrupt:
        log.warning("Interrupted")
        sys.exit(130)
    if code:
        sys.exit(code)


def print_table(rows: Iterable[dict], columns: Sequence[str] | None = None) -> None:
    """A plain-text table on standard output, the command's result."""
    rows = list(rows)
    columns = list(columns or (rows[0].keys() if rows else []))
    data = [[row.get(column, "") for column in columns] for row in rows]
    print(tabulate(data, headers=columns, floatfmt=".4f"))
