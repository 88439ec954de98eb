"""pyinstaller.spec: valid Python with the hidden imports, excludes and data the build needs."""

from __future__ import annotations

import ast
import tomllib

from tests.helpers import ROOT

SPEC = ROOT / "pyinstaller.spec"


def _source() -> str:
    return SPEC.read_text(encoding="utf-8")


def _list_strings(tree: ast.Module, name: str) -> list[str]:
    """The string literals of the top-level assignment ``name = [...]`` (or per-platform ones)."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found += [c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    return found


def test_spec_parses_and_builds_one_file_named_watchkeeper():
    tree = ast.parse(_source(), filename=str(SPEC))
    calls = {n.func.id: n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert {"Analysis", "PYZ", "EXE"} <= set(calls)
    assert "COLLECT" not in calls  # one-file: everything goes into the EXE
    exe = {k.arg: k.value for k in calls["EXE"].keywords}
    assert ast.literal_eval(exe["upx"]) is False
    assert ast.unparse(exe["console"]) == "not IS_WINDOWS"  # windowed exe on Windows
    assert ast.unparse(exe["icon"]) == "ICON"
    assert _list_strings(tree, "NAME") == ["watchkeeper"]
    assert "watchkeeper.ico" in _source()
    analysis = calls["Analysis"]
    assert "watchkeeper_entry.py" in ast.unparse(analysis.args[0])
    assert (ROOT / "packaging" / "watchkeeper_entry.py").is_file()


def test_hidden_imports_cover_the_dynamic_loads():
    tree = ast.parse(_source())
    hidden = set(_list_strings(tree, "HIDDEN_IMPORTS")) | set(_list_strings(tree, "PLATFORM_HIDDEN"))
    for module in ("plyer.platforms.win.notification", "plyer.platforms.linux.notification",
                   "plyer.platforms.macosx.notification", "pystray._win32", "pystray._xorg", "pystray._darwin",
                   "apscheduler.executors.pool", "apscheduler.jobstores.memory", "engine.cli.startup",
                   "tray.app"):
        assert module in hidden, module
    assert 'collect_submodules("apscheduler.triggers")' in _source()
    assert 'copy_metadata("apscheduler")' in _source()


def test_excludes_keep_the_binary_small():
    excludes = set(_list_strings(ast.parse(_source()), "EXCLUDES"))
    assert {"tkinter", "PIL._avif", "PIL.AvifImagePlugin", "apscheduler.jobstores.sqlalchemy", "gi"} <= excludes
    assert not excludes & {"apscheduler.triggers.cron", "apscheduler.triggers.interval", "PIL.PngImagePlugin",
                           "PIL.IcoImagePlugin", "zstandard", "sqlite3"}


def test_assets_and_marker_are_bundled():
    source = _source()
    assert '(str(ROOT / "assets"), "assets")' in source
    assert '"watchkeeper.bundle"' in source and (ROOT / "packaging" / "watchkeeper.bundle").is_file()


def test_dashboard_templates_and_static_files_are_bundled_at_their_source_path():
    source = _source()
    assert 'for folder in ("templates", "static"):' in source
    assert 'f"engine/api/ui/{folder}"' in source
    assert (ROOT / "engine" / "api" / "ui" / "static" / "vendor" / "manifest.json").is_file()


def test_usage_price_table_is_bundled_beside_its_module():
    source = _source()
    assert '(str(ROOT / "engine" / "archive" / "prices.json"), "engine/archive")' in source
    assert (ROOT / "engine" / "archive" / "prices.json").is_file()


def test_apscheduler_entry_points_resolve_in_this_environment():
    # What the copied metadata provides inside the binary: the trigger aliases.
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="apscheduler.triggers")}
    assert {"interval", "cron", "date"} <= names


def test_build_extra_pins_pyinstaller():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    build = project["optional-dependencies"]["build"]
    assert any(req.startswith("pyinstaller==") for req in build)
    assert any(req.startswith("pyinstaller-hooks-contrib==") for req in build)
