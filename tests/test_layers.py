"""Imports go one way: no ftkit module imports a private name of another, and nothing low
(the wire schemas, reading, the frames) imports anything high (analysis, plots, reports,
browsers, commands, exports), not even inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ftkit"

#: Modules (and packages: every module under them) that hold the jobs' data and read it.
LOW = (
    "ftkit.errors", "ftkit.schema", "ftkit.openai_schema", "ftkit.read", "ftkit.frame_schemas",
    "ftkit.frames", "ftkit.mistral_frames", "ftkit.snapshots",
)
#: Modules that use the jobs: none of LOW may import them.
HIGH = (
    "ftkit.analysis", "ftkit.plot", "ftkit.report", "ftkit.summary", "ftkit.browser", "ftkit.cli",
    "ftkit.export", "ftkit.export_dump", "ftkit.export_http", "ftkit.export_openai", "ftkit.convert",
)


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def imports(package: Path) -> list[tuple[str, str, str | None, int]]:
    """Every import of the package's own modules, anywhere in its files: (importing module,
    imported module, the name taken from it or None, line)."""
    found = []
    top = package.name
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        home = module.split(".") if parts[-1] == "__init__" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found += [(module, alias.name, None, node.lineno) for alias in node.names if alias.name.split(".")[0] == top]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = home[: len(home) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != top:
                    continue
                for alias in node.names:
                    # "from . import plot" imports a module; "from .x import name" a name
                    found.append((module, target, alias.name, node.lineno))
    return found


def violations(package: Path, low: tuple[str, ...], high: tuple[str, ...]) -> list[str]:
    out = []
    for module, target, name, line in imports(package):
        if name is not None and name.startswith("_") and not name.startswith("__"):
            out.append(f"{module}:{line} imports the private name {name} of {target}")
        # "from . import plot" takes the module ftkit.plot from the package ftkit
        imported = target if _within(target, high) or name is None else f"{target}.{name}"
        if _within(module, low) and _within(imported, high):
            out.append(f"{module}:{line} (low) imports {imported} (high)")
    return out


def test_ftkit_imports_go_one_way():
    assert violations(PACKAGE, LOW, HIGH) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from .other import _value\n", ["pkg.low:1 imports the private name _value of pkg.other"]),
        ("from .plot import _axes\n", [
            "pkg.low:1 imports the private name _axes of pkg.plot", "pkg.low:1 (low) imports pkg.plot (high)",
        ]),
        ("from . import plot\n", ["pkg.low:1 (low) imports pkg.plot (high)"]),
        ("def f():\n    import pkg.plot.curves\n", ["pkg.low:2 (low) imports pkg.plot.curves (high)"]),
        ("from .plot.curves import draw\n", ["pkg.low:1 (low) imports pkg.plot.curves (high)"]),
        ("from .other import __version__, value\nimport json\n", []),
    ],
)
def test_the_check_sees_a_private_name_and_an_import_upwards(tmp_path, source, expected):
    package = tmp_path / "pkg"
    (package / "plot").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "plot" / "__init__.py").write_text("_axes = 1\n")
    (package / "plot" / "curves.py").write_text("def draw(): pass\n")
    (package / "other.py").write_text("value = 1\n")
    (package / "low.py").write_text(source)
    assert violations(package, ("pkg.low",), ("pkg.plot",)) == expected
