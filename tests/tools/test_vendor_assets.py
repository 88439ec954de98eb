"""tools/vendor_assets.py: the committed vendor files match their manifests, and a changed copy is caught."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tools import vendor_assets as va

TOOL = ROOT / "tools" / "vendor_assets.py"


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.fixture
def vendor_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "vendor"
    shutil.copytree(va.STATIC_VENDOR, copy)
    return copy


def test_verify_passes_on_the_committed_vendor_files():
    result = run_tool("--verify")
    assert result.returncode == 0, result.stderr
    assert "match their manifests" in result.stdout


def test_verify_names_a_tampered_file_and_exits_1(vendor_copy: Path):
    target = vendor_copy / "htmx.min.js"
    target.write_bytes(target.read_bytes().replace(b"htmx", b"HTMX", 1))
    result = run_tool("--verify", str(vendor_copy))
    assert result.returncode == 1
    assert f"{target}: sha256 differs from manifest.json (htmx.org@2.0.11)" in result.stderr
    assert "uPlot" not in result.stderr  # only the changed file is named


def test_verify_names_missing_and_unlisted_files(vendor_copy: Path):
    (vendor_copy / "sse.js").unlink()
    (vendor_copy / "evil.js").write_text("alert(1)")
    result = run_tool("--verify", str(vendor_copy))
    assert result.returncode == 1
    assert f"{vendor_copy / 'sse.js'}: missing" in result.stderr
    assert f"{vendor_copy / 'evil.js'}: not listed in manifest.json" in result.stderr


def test_manifest_holds_the_layout_files_with_version_integrity_and_a_licence_per_package():
    manifest = json.loads((va.STATIC_VENDOR / "manifest.json").read_text())
    expected = {"htmx.min.js": ("htmx.org", "2.0.11"), "sse.js": ("htmx-ext-sse", "2.2.4"),
                "uPlot.iife.min.js": ("uplot", "1.6.32"), "uPlot.min.css": ("uplot", "1.6.32"),
                "swagger-ui-bundle.js": ("swagger-ui-dist", "5.35.0"), "swagger-ui.css": ("swagger-ui-dist", "5.35.0")}
    for name, (package, version) in expected.items():
        entry = manifest[name]
        assert (entry["package"], entry["version"]) == (package, version)
        assert entry["integrity"].startswith("sha512-")
        assert f"licenses/{package}/LICENSE" in manifest
    test_manifest = json.loads((va.TEST_VENDOR / "manifest.json").read_text())
    assert test_manifest["axe.min.js"]["package"] == "axe-core"
    assert "licenses/axe-core/LICENSE" in test_manifest


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_tarball_whose_sha512_is_not_the_pinned_integrity_is_refused():
    data = _tarball({"dist/x.js": b"x", "LICENSE": b"MIT"})
    package = va.Package("x", "1.0.0", va.sri(b"something else"), {"dist/x.js": "x.js"})
    with pytest.raises(va.VendorError, match="x@1.0.0: the tarball's integrity is sha512-"):
        va.check_tarball(package, data)
    assert va.check_tarball(va.Package("x", "1.0.0", va.sri(data), {}), data) == data


def test_extract_takes_the_files_and_licences_and_names_what_is_missing():
    data = _tarball({"dist/x.js": b"x", "LICENSE": b"MIT", "other.js": b"no"})
    package = va.Package("x", "1.0.0", va.sri(data), {"dist/x.js": "x.js"})
    assert va.extract(package, data) == {"x.js": b"x", "licenses/x/LICENSE": b"MIT"}
    wants_more = va.Package("x", "1.0.0", va.sri(data), {"dist/x.js": "x.js", "dist/y.js": "y.js"})
    with pytest.raises(va.VendorError, match="not in the tarball: dist/y.js"):
        va.extract(wants_more, data)
