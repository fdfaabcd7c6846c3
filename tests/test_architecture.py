"""The package's shape holds: stages layered (import-linter's contracts in pyproject.toml), no import
circle, one writer. These fail CI on an upward import, a cycle, or a file written elsewhere."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "lstm_forecast"


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess:
    """import-linter's contracts (pyproject.toml) over the package found in `package_parent`."""
    command = Path(sys.executable).with_name("lint-imports")
    if not command.exists():
        command = shutil.which("lint-imports")
    assert command, "import-linter is a test dependency: pip install -e '.[test]'"
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(command), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=package_parent,
        env=env,
        capture_output=True,
        text=True,
    )


def test_the_import_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_deliberate_upward_import_breaks_the_contracts(tmp_path):
    copy = tmp_path / "lstm_forecast"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    reader = copy / "data" / "read.py"
    reader.write_text(
        reader.read_text() + "\n\ndef _upward():\n    from lstm_forecast.cli.base import app\n"
    )
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "lstm_forecast.data.read -> lstm_forecast.cli.base" in result.stdout
    assert "1 broken" in result.stdout


def _module_imports() -> dict[str, set[str]]:
    """Every module of the package and the package modules it imports (also inside functions;
    `if TYPE_CHECKING:` imports are annotations, not imports, and are left out)."""
    import grimp

    graph = grimp.build_graph("lstm_forecast", exclude_type_checking_imports=True)
    return {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}


def _cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in imports.get(module, ()):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_back_through_others():
    assert _cycles(_module_imports()) == []
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# Calls that write a file, and where alone they may appear: lstm_forecast/files/ writes every file
# the tool writes (checks first, atomic replace, our marker). Methods of paths, frames, figures and
# models; functions of os, shutil, tempfile, json; open() for writing.
METHODS = {"to_csv", "to_json", "to_parquet", "to_excel", "write_text", "write_bytes", "savefig",
           "mkdir", "touch", "unlink", "rmdir", "symlink_to", "hardlink_to"}  # fmt: skip
FUNCTIONS = {
    "os": {"replace", "rename", "link", "remove", "unlink", "makedirs", "mkdir", "rmdir"},
    "shutil": {"copy", "copy2", "copyfile", "copytree", "move", "rmtree"},
    "tempfile": {"mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryDirectory"},
    "json": {"dump"},
    "tomli_w": {"dump"},
    "pickle": {"dump"},
}
OPEN_MODES = set("wax+")


def _writes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        name = getattr(function, "attr", getattr(function, "id", ""))
        owner = _owner(node)
        if isinstance(function, ast.Attribute) and (
            (name in METHODS and owner not in FUNCTIONS)
            or name in FUNCTIONS.get(owner, ())
            or (name == "save" and owner.endswith("model"))  # Keras's model.save
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}()")
        if name == "open":
            modes = [a.value for a in node.args[1:2] if isinstance(a, ast.Constant)]
            modes += [k.value.value for k in node.keywords if k.arg == "mode"]
            if any(set(str(mode)) & OPEN_MODES for mode in modes):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} open({modes[0]!r})")
    return found


def _owner(node: ast.Call) -> str:
    """The name a method is called on: `frame` of frame.to_csv(), `os` of os.replace()."""
    owner = node.func.value if isinstance(node.func, ast.Attribute) else None
    if isinstance(owner, ast.Attribute):  # self.model.save()
        return owner.attr
    if isinstance(owner, ast.Subscript) and isinstance(owner.slice, ast.Constant):
        return str(owner.slice.value)  # parts["model"].save()
    return owner.id if isinstance(owner, ast.Name) else ""


def test_only_the_files_package_writes():
    outside = [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.parent.name != "files" or path.parent.parent != PACKAGE
    ]
    assert [found for path in outside for found in _writes(path)] == []


@pytest.mark.parametrize(
    "source",
    [
        "frame.to_csv(path)",
        "path.write_text('x')",
        "figure.savefig(path)",
        "json.dump(value, handle)",
        "model.save(path)",
        "parts['model'].save(path)",
        "shutil.rmtree(path)",
        "(directory / name).write_text(text)",
        "os.replace(a, b)",
        "open(path, 'w')",
        "open(path, mode='a')",
    ],
)
def test_the_writer_rule_sees_a_write(tmp_path, source):
    module = tmp_path / "module.py"
    module.write_text(f"def f():\n    {source}\n")
    assert len(_writes_in(module, tmp_path)) == 1


def test_the_writer_rule_leaves_reads_and_string_replaces_alone(tmp_path):
    module = tmp_path / "module.py"
    module.write_text(
        "def f():\n    open(path)\n    open(path, 'rb')\n    'a'.replace('a', 'b')\n"
        "    dataclasses.replace(config, data=1)\n    frame.replace({1: 2})\n"
        "    frame.rename(columns={})\n    write_text(path, text)\n    forecaster.save(path)\n"
    )
    assert _writes_in(module, tmp_path) == []


def _writes_in(path: Path, root: Path) -> list[str]:
    global ROOT
    saved, ROOT = ROOT, root
    try:
        return _writes(path)
    finally:
        ROOT = saved


def test_no_module_is_over_360_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 360
    }
    assert long == {}
