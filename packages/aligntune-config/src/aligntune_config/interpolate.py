"""``${VAR}`` and ``${VAR:-default}`` in config files (``$${`` writes a literal ``${``)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from .errors import ConfigIssue, format_loc

_REF = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


def interpolate(tree: Any, env: Mapping[str, str] | None = None) -> tuple[Any, list[ConfigIssue]]:
    """Replace environment references in every string of ``tree``; return the new tree and the
    references that could not be resolved (as issues with their paths)."""
    env = os.environ if env is None else env
    issues: list[ConfigIssue] = []

    def sub(text: str, loc: list[Any]) -> str:
        def repl(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            issues.append(ConfigIssue(format_loc(loc), f"environment variable {name} is not set (write ${{{name}:-default}} for a default)"))
            return match.group(0)

        return _REF.sub(repl, text)

    def walk(node: Any, loc: list[Any]) -> Any:
        if isinstance(node, str):
            return sub(node, loc) if "$" in node else node
        if isinstance(node, dict):
            return {k: walk(v, [*loc, k]) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, [*loc, i]) for i, v in enumerate(node)]
        return node

    return walk(tree, []), issues
