#!/usr/bin/env bash
# Installs pollnet with its development tools into .venv and runs every check: ruff (lint and
# format), mypy (strict on src/) and the whole pytest suite, PostgreSQL and browser tests included.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
bash scripts/system-packages.sh
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
.venv/bin/pytest "$@"
