#!/usr/bin/env python3
"""Set up riskguard from nothing but python3, then run it, test it, lint it or benchmark it.

    python3 dev.py run       the main job on its embedded default
    python3 dev.py test      the whole test suite (pytest arguments may follow)
    python3 dev.py lint      ruff and mypy (strict on the core)
    python3 dev.py bench     the benchmarks, one JSON object per figure
    python3 dev.py lock      re-resolve requirements/*.lock from pyproject.toml

Everything is installed into ./.venv from the pinned, hashed lock files in
requirements/, and reinstalled only when a lock file or pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
LOCKS = {"run": ROOT / "requirements" / "run.lock", "dev": ROOT / "requirements" / "dev.lock"}


def _say(message: str) -> None:
    print(f"dev.py: {message}", file=sys.stderr, flush=True)


def _check(*cmd: str | Path) -> None:
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT)


def _create_venv() -> None:
    _say(f"creating {VENV}")
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    except (subprocess.CalledProcessError, OSError) as exc:
        sys.exit(
            f"dev.py: could not create a virtual environment ({exc}).\n"
            "On Debian or Ubuntu install the venv module first: apt-get install python3-venv"
        )


def ensure_env(kind: str) -> None:
    """Install the `kind` lock (run or dev) into .venv unless it is already there."""
    lock = LOCKS[kind]
    digest = hashlib.sha256(lock.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / f".installed-{kind}"
    if stamp.exists() and stamp.read_text() == digest and PYTHON.exists():
        return
    if not PYTHON.exists():
        _create_venv()
    _say(f"installing {lock.relative_to(ROOT)} into .venv (first run only)")
    pip = [PYTHON, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    _check(*pip, "--require-hashes", "-r", lock)
    _check(*pip, "--no-deps", "-e", ROOT)
    stamp.write_text(digest)


def _exec(*cmd: str | Path) -> None:
    """Replace this process with `cmd` run inside the venv, so signals and exit codes pass through."""
    env = dict(os.environ, VIRTUAL_ENV=str(VENV), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    args = [str(c) for c in cmd]
    if os.name == "nt":
        sys.exit(subprocess.run(args, env=env, cwd=ROOT).returncode)
    os.chdir(ROOT)
    os.execve(args[0], args, env)


def cmd_run(args: list[str]) -> None:
    ensure_env("run")
    _exec(BIN / "riskguard", "run", *args)


def cmd_test(args: list[str]) -> None:
    ensure_env("dev")
    _exec(PYTHON, "-m", "pytest", *args)


def cmd_lint(args: list[str]) -> None:
    ensure_env("dev")
    _check(BIN / "ruff", "check", "src", "tests", "bench", "dev.py", *args)
    _check(BIN / "ruff", "format", "--check", "src", "tests", "bench", "dev.py")
    _exec(BIN / "mypy")


def cmd_bench(args: list[str]) -> None:
    ensure_env("dev")
    _exec(PYTHON, "-m", "bench", *args)


def cmd_lock(args: list[str]) -> None:
    ensure_env("dev")
    _check(PYTHON, "-m", "pip", "install", "--quiet", "uv")
    common = ["--generate-hashes", "--python-version", "3.11", "--quiet", *args]
    _check(BIN / "uv", "pip", "compile", "pyproject.toml", "-o", LOCKS["run"], *common)
    _check(
        BIN / "uv",
        "pip",
        "compile",
        "pyproject.toml",
        "--extra",
        "dev",
        "-o",
        LOCKS["dev"],
        *common,
    )


COMMANDS = {
    "run": cmd_run,
    "test": cmd_test,
    "lint": cmd_lint,
    "bench": cmd_bench,
    "lock": cmd_lock,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
