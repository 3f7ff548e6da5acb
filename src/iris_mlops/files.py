"""Writing output files so that a reader never sees half of one."""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from iris_mlops.errors import IrisMlopsError


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Let `write` fill a temporary file beside `path`, then move it into place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix
        )
        os.close(handle)
    except OSError as error:
        raise IrisMlopsError(
            f"Cannot write {path}: {error.strerror} ({error.filename})."
        ) from error
    try:
        write(Path(tmp))
        # mkstemp makes the file private; outputs are ordinary files of the project
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as error:
        # e.g. the path is a folder, or the disk is full
        Path(tmp).unlink(missing_ok=True)
        raise IrisMlopsError(f"Cannot write {path}: {error.strerror or error}.") from error
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
