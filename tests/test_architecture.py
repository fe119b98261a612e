"""The package's shape: its modules import one another without a cycle, and the library
never pulls in Streamlit (only the page does)."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = "optviz"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE


def _module_name(path: Path) -> str:
    parts = (PACKAGE, *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its file, functions included."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, one level up per extra dot
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            # `from . import schedules` imports a module; `from .state import PageState` a name.
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
                       for alias in node.names]
        else:
            continue
        for target in targets:
            # `import optviz.url` imports optviz.url (and its parents, which every submodule does anyway)
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                found.add(target)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle in ``graph`` (as a path that ends where it starts), or []."""
    done: set[str] = set()
    for root, children in graph.items():
        if root in done:
            continue
        path, on_path = [root], {root}
        stack = [iter(sorted(children))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif child in on_path:
                return [*path[path.index(child):], child]
            elif child not in done:
                path.append(child)
                on_path.add(child)
                stack.append(iter(sorted(graph[child])))
    return []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) in (
        ["a", "b", "c", "a"], ["b", "c", "a", "b"], ["c", "a", "b", "c"])
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_the_import_walker_resolves_relative_and_hidden_imports():
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    assert "optviz.state" in graph["optviz.url"] and "optviz.lessons" in graph["optviz.url"]
    assert "optviz.schedules" in graph["optviz.engine"]  # `from . import schedules`
    assert {"optviz.engine", "optviz.surfaces"} <= graph["optviz"]


def test_no_module_of_the_package_imports_another_in_a_cycle():
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    cycle = _cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_only_the_page_imports_streamlit():
    for name, path in MODULES.items():
        if name == f"{PACKAGE}.page" or name.startswith(f"{PACKAGE}.page."):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not any(m == "streamlit" or m.startswith("streamlit.") for m in imported), name


def test_importing_optviz_does_not_import_streamlit():
    code = f"import {PACKAGE}, sys; assert 'streamlit' not in sys.modules, 'streamlit was imported'"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT.parent, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_ruff_finds_nothing_with_the_projects_config():
    """Lint and import order (pyproject.toml's [tool.ruff]) over the whole checkout."""
    checkout = ROOT.parent
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(checkout)], cwd=checkout,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
