"""The HTML pages' templates: the plan's report, the weekly rollout report, the readiness map."""

from __future__ import annotations

import functools
import json
from typing import Any

import jinja2

_SCRIPT_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def template(package: str, name: str) -> jinja2.Template:
    """The template ``name`` of ``<package>/templates`` (autoescaped; block tags leave no
    blank lines behind)."""
    return _environment(package).get_template(name)


def script_json(value: Any) -> str:
    """``value`` as JSON to embed in a ``<script>`` element: ``<``, ``>`` and ``&`` written as
    ``\\u003c``, ``\\u003e``, ``\\u0026``, so that no text (``</script>``, ``<!--``) can end
    the element or hide the rest of the page, and the JSON stays valid."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_SCRIPT_ESCAPES)


@functools.cache
def _environment(package: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
