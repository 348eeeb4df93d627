"""Compiled hot paths: the modules that build a department import's rows, compiled with mypyc
(shipped with mypy, which the project pins) into C extensions, used only when they were built
from exactly the sources on disk.

A first import of 500,000 rows spends most of its time in Python building each child (parsing,
checking, deriving categories, rendering COPY lines) in one worker process; compiled, the same
code needs ~30 % less CPU (docs/PERFORMANCE.md). Nothing else changes: the modules keep
their Python sources, which are what runs wherever no build exists.

`main()` builds (the Makefile's install runs it; a machine without a C
compiler keeps the Python modules and says so). The build goes to build/native/<digest>/, where
the digest covers every Python source of the package: after any edit the build no longer
matches and the Python modules are imported until the next build, never a stale extension.
`install()` (run by the package's __init__) puts the finder in front of the normal import
when a matching build is there; AIXIN_NATIVE=0 turns it off.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

# Compiled together (one group: they call each other directly, so they are used all or none):
# what the build worker runs for every row. (The importing process's engine and reader were
# measured compiled too: 14.6 against 15.1 CPU-seconds for 500,000 rows, their time is in C —
# csv, hmac, psycopg, pickle — so they stay Python.)
MODULES = (
    "aixin.ingest.normalise",
    "aixin.ingest.build",
    "aixin.ingest.merge",
    "aixin.registry.derive",
    "aixin.registry.rules",
    "aixin.lib.pinyin",
    "aixin.lib.idnumber",
)
GROUP = "aixin_native"  # the group's shared library is GROUP + "__mypyc"
PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
BUILDS = ROOT / "build" / "native"
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]  # .cpython-311-x86_64-linux-gnu.so
# The compile's own mypy settings. Compiled code checks at run time the types its annotations
# and the stubs it relies on promise; Django's stubs and our models (through the Django plugin)
# promise more than the running objects always keep (a datetime where the stub says str), so
# the compile sees Django and the models as Any: only our plain code's own types are checked.
MYPY_SETTINGS = """\
[mypy]
ignore_missing_imports = True
[mypy-django.*]
follow_imports = skip
follow_imports_for_stubs = True
[mypy-aixin.*]
follow_imports = silent
[mypy-aixin.*.models]
follow_imports = skip
"""


def source_digest(package: Path = PACKAGE) -> str:
    """SHA-256 over the path and bytes of every Python source of the package (~350 files,
    ~10 ms at each start): compiled code may have taken constants and types from any of them."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def build_dir(digest: str) -> Path:
    return BUILDS / digest[:24]


def extension_files(directory: Path) -> dict[str, Path]:
    """Module name → extension file in a build directory (the group's library included)."""
    names = [*MODULES, f"{GROUP}__mypyc"]
    return {
        name: directory.joinpath(*name.split(".")).with_name(name.split(".")[-1] + SUFFIX) for name in names
    }


class Finder:
    """Imports the listed modules from their extension files (a meta path finder)."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        file = self.files.get(fullname)
        if file is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(file))
        return importlib.util.spec_from_file_location(fullname, file, loader=loader)


def finder_for(directory: Path) -> Finder | None:
    """A finder over a complete build in `directory`, or None."""
    files = extension_files(directory)
    return Finder(files) if all(f.is_file() for f in files.values()) else None


def current_finder() -> Finder | None:
    """A finder over the build of the sources on disk, if there is one (and AIXIN_NATIVE is
    not 0)."""
    if os.environ.get("AIXIN_NATIVE", "1") == "0" or not BUILDS.is_dir():
        return None
    return finder_for(build_dir(source_digest()))


def install() -> bool:
    """Use the compiled modules if a build of the current sources exists; True if so."""
    if any(isinstance(f, Finder) for f in sys.meta_path):
        return True
    finder = current_finder()
    if finder is None:
        return False
    sys.meta_path.insert(0, finder)
    return True


def in_use() -> bool:
    """Whether the compiled modules are what the import code runs."""
    module = sys.modules.get(MODULES[0])
    return module is not None and str(getattr(module, "__file__", "")).endswith(SUFFIX)


def build() -> Path:
    """Compile MODULES for the current sources (nothing to do if built already); older builds
    are removed. Needs a C compiler and the Python headers."""
    from mypyc.build import mypycify
    from setuptools import setup

    target = build_dir(source_digest())
    if finder_for(target) is not None:
        return target
    work = BUILDS / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    settings = work / "mypy.ini"
    settings.write_text(MYPY_SETTINGS)
    paths = [str(Path(*m.split(".")).with_suffix(".py")) for m in MODULES]
    cwd = Path.cwd()
    os.chdir(ROOT)  # module names from the relative paths
    try:
        options = ["--config-file", str(settings), *paths]
        extensions = mypycify(options, group_name=GROUP, target_dir=str(work / "c"), opt_level="3")
        setup(
            name="aixin-native",
            ext_modules=extensions,
            script_args=[
                "-q",
                "build_ext",
                "--build-lib",
                str(work / "lib"),
                "--build-temp",
                str(work / "o"),
            ],
        )
    finally:
        os.chdir(cwd)
    if finder_for(work / "lib") is None:
        raise RuntimeError(f"mypyc built an incomplete set of modules in {work / 'lib'}")
    for old in BUILDS.iterdir():
        if old.is_dir() and old.name != "work":
            shutil.rmtree(old, ignore_errors=True)
    (work / "lib").rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return target


def main() -> int:
    """The Makefile's step: build, or say why not and go on (the Python modules serve)."""
    try:
        target = build()
    except (Exception, SystemExit) as exc:  # no compiler or headers: setuptools exits on errors
        print(
            f"aixin.native: not compiled ({type(exc).__name__}: {exc}); the Python modules are used",
            file=sys.stderr,
        )
        return 0
    print(f"aixin.native: compiled modules in {target.relative_to(ROOT)}")
    return 0
