#!/usr/bin/env bash
# Installs pollnet into .venv and runs the demo on the bundled data (the synthetic city).
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
.venv/bin/pip install --quiet --disable-pip-version-check -e .
.venv/bin/pollnet demo --out pollnet-demo "$@"
