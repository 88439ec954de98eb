"""Refresh or verify the JavaScript/CSS libraries vendored from npm (a development tool; no Node needed).

    python tools/vendor_assets.py            # download the pinned tarballs, check their npm integrity
                                             # (sha512), extract the files and licences, write manifest.json
    python tools/vendor_assets.py --verify   # no network: every file's sha256 against its manifest.json

Each vendor folder (the dashboard's engine/api/ui/static/vendor/ and the test-only tests/ui/vendor/) holds the
files, each package's licence under licenses/<package>/ and manifest.json: ``{file: {package, version,
integrity, sha256}}``. ``--verify`` exits 1 naming every changed, missing or unlisted file. To move a package to
another version, change its ``version`` and ``integrity`` below (``npm view PKG@VER dist.integrity``) and run
the refresh.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC_VENDOR = ROOT / "engine" / "api" / "ui" / "static" / "vendor"
TEST_VENDOR = ROOT / "tests" / "ui" / "vendor"
MANIFEST = "manifest.json"
REGISTRY = "https://registry.npmjs.org"
TIMEOUT_S = 60
MAX_TARBALL = 32 * 1024 * 1024  # swagger-ui-dist is the largest, about 5 MB compressed
MAX_METADATA = 1024 * 1024


@dataclass(frozen=True)
class Package:
    """One pinned npm package and what to take from its tarball (paths inside ``package/``)."""

    name: str
    version: str
    integrity: str  # npm's dist.integrity of the tarball
    files: dict[str, str]  # path in the tarball -> file name in the vendor folder
    licences: tuple[str, ...] = ("LICENSE",)
    dest: Path = STATIC_VENDOR


PACKAGES = [
    Package("htmx.org", "2.0.11",
            "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
            {"dist/htmx.min.js": "htmx.min.js"}),
    Package("htmx-ext-sse", "2.2.4",
            "sha512-LJmxVhykyflBWgh5PvbRidcyuqMHlgfajmmzumvKctv9puvsufeH6OaejSMZTNTnEI8O2wXXn4ZZtBdpEMqmEQ==",
            {"dist/sse.js": "sse.js"}),
    Package("uplot", "1.6.32",
            "sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==",
            {"dist/uPlot.iife.min.js": "uPlot.iife.min.js", "dist/uPlot.min.css": "uPlot.min.css"}),
    Package("swagger-ui-dist", "5.35.0",
            "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
            {"swagger-ui-bundle.js": "swagger-ui-bundle.js", "swagger-ui.css": "swagger-ui.css",
             "favicon-32x32.png": "swagger-favicon-32x32.png"},
            licences=("LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt")),
    # Test only: the accessibility checks of the browser tests (tests/ui); never shipped.
    Package("axe-core", "4.14.1",
            "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
            {"axe.min.js": "axe.min.js"}, licences=("LICENSE", "LICENSE-3RD-PARTY.txt"), dest=TEST_VENDOR),
]


class VendorError(Exception):
    """A download, integrity or extraction problem while refreshing the vendored files."""


def sri(data: bytes) -> str:
    """The Subresource-Integrity string npm records for a tarball (sha512, base64)."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _get(url: str, cap: int) -> bytes:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - a fixed https registry
        data = response.read(cap + 1)
    if len(data) > cap:
        raise VendorError(f"{url}: larger than {cap} bytes")
    return data


def download(package: Package) -> bytes:
    """The package's tarball from the registry, after checking it against the pinned integrity."""
    meta = json.loads(_get(f"{REGISTRY}/{package.name}/{package.version}", MAX_METADATA))
    listed = meta.get("dist", {}).get("integrity")
    if listed != package.integrity:
        raise VendorError(f"{package.name}@{package.version}: the registry lists integrity {listed}, "
                          f"pinned is {package.integrity}")
    return check_tarball(package, _get(meta["dist"]["tarball"], MAX_TARBALL))


def check_tarball(package: Package, data: bytes) -> bytes:
    """``data`` when its sha512 is the package's pinned npm integrity; VendorError otherwise."""
    got = sri(data)
    if got != package.integrity:
        raise VendorError(f"{package.name}@{package.version}: the tarball's integrity is {got}, "
                          f"expected {package.integrity}")
    return data


def extract(package: Package, tarball: bytes) -> dict[str, bytes]:
    """Vendor-folder path -> content of the package's files and licences (members read one by one)."""
    wanted = {**package.files, **{name: f"licenses/{package.name}/{name}" for name in package.licences}}
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive.getmembers():
            inner = member.name.removeprefix("package/")
            if inner in wanted and member.isfile():
                handle = archive.extractfile(member)
                assert handle is not None
                out[wanted[inner]] = handle.read()
    missing = sorted(inner for inner, path in wanted.items() if path not in out)
    if missing:
        raise VendorError(f"{package.name}@{package.version}: not in the tarball: {', '.join(missing)}")
    return out


def refresh(packages: list[Package]) -> None:
    """Download, check and write every package, then each vendor folder's manifest (stale files removed)."""
    by_dest: dict[Path, dict[str, dict[str, str]]] = {}
    contents: dict[Path, dict[str, bytes]] = {}
    for package in packages:
        print(f"{package.name}@{package.version}", flush=True)
        files = extract(package, download(package))
        manifest = by_dest.setdefault(package.dest, {})
        for path, data in files.items():
            manifest[path] = {"package": package.name, "version": package.version,
                              "integrity": package.integrity, "sha256": sha256(data)}
            contents.setdefault(package.dest, {})[path] = data
    for dest, manifest in by_dest.items():
        for stale in set(read_manifest(dest)) - set(manifest):
            (dest / stale).unlink(missing_ok=True)
        for path, data in contents[dest].items():
            target = dest / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (dest / MANIFEST).write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")
        print(f"wrote {len(manifest)} files and {MANIFEST} in {dest}")


def read_manifest(folder: Path) -> dict[str, dict[str, str]]:
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise VendorError(f"{path}: not a JSON object")
    return data


def verify(folder: Path) -> list[str]:
    """Problems in one vendor folder: a changed, missing or unlisted file (empty when all is well)."""
    if not (folder / MANIFEST).is_file():
        return [f"{folder}: no {MANIFEST}"]
    manifest = read_manifest(folder)
    problems = []
    for path, entry in sorted(manifest.items()):
        target = folder / path
        if not target.is_file():
            problems.append(f"{folder / path}: missing")
        elif sha256(target.read_bytes()) != entry.get("sha256"):
            problems.append(f"{folder / path}: sha256 differs from {MANIFEST} "
                            f"({entry.get('package')}@{entry.get('version')})")
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {MANIFEST}
    problems += [f"{folder / path}: not listed in {MANIFEST}" for path in sorted(on_disk - set(manifest))]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verify", nargs="*", metavar="DIR", default=None,
                        help="check the files against manifest.json, offline (default: every vendor folder)")
    args = parser.parse_args(argv)
    if args.verify is None:
        try:
            refresh(PACKAGES)
        except (VendorError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    folders = [Path(d) for d in args.verify] or sorted({p.dest for p in PACKAGES})
    problems = [problem for folder in folders for problem in verify(folder)]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"ok: {sum(len(read_manifest(f)) for f in folders)} vendored files match their manifests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
