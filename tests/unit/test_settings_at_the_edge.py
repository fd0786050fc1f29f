"""Settings are loaded once at the edge and passed in (issue 13): `infra.settings.load()` is called
only by the entry point of an `rcm` command (the function infra.cli dispatches to), once, never by
library code and never at import time."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("producers", "processors", "sinks", "infra")

# The dispatcher itself, before any command runs: it names the schema registry every command's codec
# uses (settings.registry_url), the one setting no command may leave unset (issue 12).
DISPATCHER = {("infra/cli.py", "use_schema_registry")}


def entry_points() -> set[tuple[str, str]]:
    """(file, function) of every `rcm` command, as infra.cli.COMMANDS names them (`rcm produce`'s
    sources, `rcm process`'s workers and `rcm sink`'s take the settings from theirs)."""
    from infra.cli import COMMANDS

    return {(module.replace(".", "/") + ".py", func) for module, func, _ in COMMANDS.values()}


def _loaders(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to infra.settings.load, and to the infra.settings module, anywhere in a module."""
    funcs, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "infra.settings":
            funcs |= {a.asname or a.name for a in node.names if a.name == "load"}
        elif isinstance(node, ast.ImportFrom) and node.module == "infra":
            modules |= {a.asname or a.name for a in node.names if a.name == "settings"}
        elif isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.name == "infra.settings" and a.asname}
    return funcs, modules


def load_calls(path: Path) -> list[tuple[str, int]]:
    """(enclosing top-level function, or "<module>", line) of every call of infra.settings.load."""
    tree = ast.parse(path.read_text(), str(path))
    funcs, modules = _loaders(tree)

    def is_load(call: ast.Call) -> bool:
        f = call.func
        if isinstance(f, ast.Name):
            return f.id in funcs
        if isinstance(f, ast.Attribute) and f.attr == "load":
            owner = ast.unparse(f.value)
            return owner in modules or owner == "infra.settings"
        return False

    found = []

    def visit(node: ast.AST, where: str) -> None:
        """`where`: "<module>" at import time (module level, a class body), else the function
        that runs the call when called (the top-level function, or Class.method)."""
        for child in ast.iter_child_nodes(node):
            inner = where
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and where == "<module>":
                inner = f"{cls}.{child.name}" if (cls := getattr(node, "name", None)) else child.name
            if isinstance(child, ast.Call) and is_load(child):
                found.append((where, child.lineno))
            visit(child, inner)

    visit(tree, "<module>")
    return found


def all_load_calls() -> dict[tuple[str, str], list[int]]:
    calls: dict[tuple[str, str], list[int]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            for func, line in load_calls(path):
                calls.setdefault((rel, func), []).append(line)
    return calls


def test_settings_are_loaded_only_by_the_entry_point_of_a_command():
    allowed = entry_points() | DISPATCHER
    stray = {f"{file}:{lines[0]} in {func}" for (file, func), lines in all_load_calls().items()
             if (file, func) not in allowed}
    assert sorted(stray) == []


def test_no_module_loads_settings_at_import_time():
    at_import = [f"{file}:{lines}" for (file, func), lines in all_load_calls().items()
                 if func == "<module>"]
    assert at_import == []


def test_each_entry_point_loads_settings_at_most_once():
    twice = [f"{file} {func}: lines {lines}" for (file, func), lines in all_load_calls().items()
             if len(lines) > 1]
    assert twice == []


def test_the_scan_finds_every_spelling_of_a_call(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("from infra import settings as s\nimport infra.settings as t\n"
                   "X = s.load()\n"
                   "def f():\n    from infra.settings import load as get\n    return get()\n"
                   "class C:\n    Y = t.load()\n    def g(self):\n        return t.load()\n")
    assert load_calls(src) == [("<module>", 3), ("f", 6), ("<module>", 8), ("C.g", 10)]
