"""Running the project's scripts as a user would: a process, a folder, an environment."""

import os
import subprocess
import sys
from pathlib import Path

from .paths import SCRIPTS_DIR


def run_script(
    name: str, *overrides: str, env: dict, cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`python scripts/hw5_clearml_<name>.py overrides...` in `cwd`; output captured as text."""
    # a clean slate: no clearml.conf of the machine's user, no inherited backend choice
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLEARML_", "IRIS_MLOPS_"))
    }
    return subprocess.run(
        [sys.executable, str(SCRIPTS_DIR / f"hw5_clearml_{name}.py"), *overrides],
        cwd=cwd,
        env={**base, "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def output(process: subprocess.CompletedProcess) -> str:
    return process.stdout + process.stderr
