"""The HTML pages' templates: the plan's report, the weekly rollout report, the readiness map."""

from __future__ import annotations

import functools

import jinja2


def template(package: str, name: str) -> jinja2.Template:
    """The template ``name`` of ``<package>/templates`` (autoescaped; block tags leave no
    blank lines behind)."""
    return _environment(package).get_template(name)


@functools.cache
def _environment(package: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
