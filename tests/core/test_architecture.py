"""The house rules that keep the shape: the core imports no module, files stay small, and a
module plugs in through its manifest alone."""

from __future__ import annotations

import ast
import re
import sys
import warnings
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityops.app import create_app
from cityops.core.config import Settings
from cityops.core.db import Database
from conftest import Factory

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"
CORE = SRC / "cityops" / "core"
MODULES_PACKAGE = "cityops.modules"
# Only the loader and the schema discover modules, and only by the package's name.
DISCOVERY_FILES = {"modules.py", "schema.py"}
MODULE_PATH = re.compile(r"\bcityops\.modules\.[A-Za-z_]")
SIZE_LIMIT, SIZE_WARNING = 600, 400

if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # makes tests/core/sample_module importable as sample_module


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """Resolve a (possibly relative) `from X import` to an absolute module name."""
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _docstrings(tree: ast.Module) -> set[int]:
    """Return the ids of the docstring nodes of a module and its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def module_imports(source: str, package: str, discovery: bool = False) -> list[str]:
    """List the ways a core file reaches into a sector module (empty when it does not)."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(f"{MODULES_PACKAGE}."):
                    found.append(f"{where}: import {alias.name}")
                elif alias.name == MODULES_PACKAGE and not discovery:
                    found.append(f"{where}: import {alias.name} outside the module loader")
        elif isinstance(node, ast.ImportFrom):
            name = _absolute(node, package)
            if name == MODULES_PACKAGE or name.startswith(f"{MODULES_PACKAGE}."):
                found.append(f"{where}: from {name} import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            if MODULE_PATH.search(node.value):
                found.append(f"{where}: string {node.value!r}")
            elif node.value == MODULES_PACKAGE and not discovery:
                found.append(f"{where}: string {node.value!r} outside the module loader")
    return found


def _package_of(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts if path.name == "__init__.py" else parts[:-1])


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("import cityops.modules.traffic", True),
        ("from cityops.modules.traffic.service import x", True),
        ("from cityops.modules import traffic", True),
        ("from ..modules.traffic import service", True),
        ("importlib.import_module('cityops.modules.traffic')", True),
        ("importlib.import_module('cityops.modules')", True),
        ("import cityops.modules", True),
        ("from cityops.core.bus import Event", False),
        ('"""Modules live in cityops.modules.traffic and the like."""', False),
    ],
)
def test_the_import_check_catches_what_it_should(source: str, caught: bool) -> None:
    assert bool(module_imports(source, "cityops.core")) is caught


def test_the_module_loader_may_name_the_modules_package_only() -> None:
    loader = "import cityops.modules\nimportlib.import_module('cityops.modules')"
    assert module_imports(loader, "cityops.core", discovery=True) == []
    assert module_imports("from cityops.modules import x", "cityops.core", discovery=True)


def test_core_imports_no_sector_module() -> None:
    offences = {}
    for path in sorted(CORE.rglob("*.py")):
        discovery = path.parent == CORE and path.name in DISCOVERY_FILES
        found = module_imports(path.read_text(encoding="utf-8"), _package_of(path), discovery)
        if found:
            offences[str(path.relative_to(SRC))] = found
    assert not offences, f"the core must not import sector modules: {offences}"


def test_no_source_file_outgrows_the_house_size() -> None:
    sizes = {
        str(p.relative_to(SRC)): len(p.read_text(encoding="utf-8").splitlines())
        for p in sorted(SRC.rglob("*.py"))
    }
    asking = {p: n for p, n in sizes.items() if SIZE_WARNING < n <= SIZE_LIMIT}
    if asking:
        warnings.warn(f"files over ~{SIZE_WARNING} lines ask to be split: {asking}", stacklevel=1)
    too_big = {p: n for p, n in sizes.items() if n > SIZE_LIMIT}
    assert not too_big, f"split these files (over {SIZE_LIMIT} lines): {too_big}"


def _with_modules(settings: Settings, **changes: object) -> Settings:
    modules = settings.modules.model_copy(update={"extra": ["sample_module"], **changes})
    return settings.model_copy(update={"modules": modules})


def test_extra_module_is_loaded_with_its_route_kpi_widget_and_event(
    settings: Settings, database: Database, factory: Factory
) -> None:
    app = create_app(_with_modules(settings), db=database)
    registry = app.state.registry
    assert "sample" in registry.modules
    assert "sample.answers" in registry.widgets
    assert "sample.pinged" in registry.events
    headers = factory.headers(factory.user("admin"))
    with TestClient(app) as client:
        assert client.get("/api/sample/ping").json() == {"pong": True}
        modules = client.get("/api/modules", headers=headers)
        kpis = client.get("/api/kpis", headers=headers)
    assert modules.status_code == 200, modules.text
    assert {"name": "sample", "title_vi": "Phân hệ mẫu", "title_en": "Sample module"} in [
        {k: m[k] for k in ("name", "title_vi", "title_en")} for m in modules.json()
    ]
    assert kpis.status_code == 200, kpis.text
    kpi = {k["key"]: k for k in kpis.json()}["sample.answers"]
    assert (kpi["title_vi"], kpi["title_en"], kpi["unit"], kpi["value"]) == (
        "Số câu trả lời",
        "Answers",
        "count",
        42,
    )


def test_module_lists_need_an_authenticated_user(settings: Settings, database: Database) -> None:
    with TestClient(create_app(_with_modules(settings), db=database)) as client:
        assert client.get("/api/modules").status_code == 401
        assert client.get("/api/kpis").status_code == 401


def test_disabled_module_has_no_route(
    settings: Settings, database: Database, factory: Factory
) -> None:
    app = create_app(_with_modules(settings, disabled=["sample"]), db=database)
    assert "sample" not in app.state.registry.modules
    headers = factory.headers(factory.user("admin"))
    with TestClient(app) as client:
        response = client.get("/api/sample/ping")
        names = [m["name"] for m in client.get("/api/modules", headers=headers).json()]
        keys = [k["key"] for k in client.get("/api/kpis", headers=headers).json()]
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "sample" not in names
    assert "sample.answers" not in keys


def test_enabled_list_keeps_only_the_named_modules(settings: Settings, database: Database) -> None:
    app = create_app(_with_modules(settings, enabled=["sample"]), db=database)
    assert list(app.state.registry.modules) == ["sample"]


def test_unknown_module_name_is_a_clear_error(settings: Settings, database: Database) -> None:
    with pytest.raises(ValueError, match="no_such_module") as err:
        create_app(_with_modules(settings, enabled=["no_such_module"]), db=database)
    assert "CITYOPS_MODULES__ENABLED" in str(err.value)
    assert "sample" in str(err.value), "the error should list the installed modules"


def test_module_jobs_run_while_the_app_serves_and_failures_are_counted(
    settings: Settings, database: Database
) -> None:
    import time

    import sample_module

    sample_module.RUNS.clear()
    app = create_app(_with_modules(settings), db=database)
    pinged: list[object] = []
    app.state.bus.subscribe("sample.pinged", pinged.append)
    with TestClient(app) as client:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and sample_module.RUNS.count("poll") < 3:
            time.sleep(0.05)
        metrics = client.get("/metrics").text
    assert sample_module.RUNS.count("poll") >= 3 and sample_module.RUNS.count("flaky") >= 3
    assert pinged, "the job's events reach the bus"
    assert 'cityops_job_runs_total{job="sample.flaky",result="failed"}' in metrics
    runs = len(sample_module.RUNS)
    time.sleep(0.2)
    assert len(sample_module.RUNS) == runs, "jobs stop with the app"
