"""The compiled import modules (aixin.native) are used only when built from the very sources on
disk: an edited source, a missing file or AIXIN_NATIVE=0 means the Python modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aixin import native


def _fake_build(directory: Path) -> None:
    for file in native.extension_files(directory).values():
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"")


@pytest.fixture
def builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(native, "BUILDS", tmp_path)
    monkeypatch.delenv("AIXIN_NATIVE", raising=False)
    return tmp_path


def test_a_complete_build_of_the_current_sources_is_used(builds: Path) -> None:
    _fake_build(native.build_dir(native.source_digest()))
    finder = native.current_finder()
    assert finder is not None
    spec = finder.find_spec("aixin.ingest.build")
    assert spec is not None and str(spec.origin).endswith(native.SUFFIX)
    assert finder.find_spec("aixin.ingest.columns") is None  # not compiled: the normal import


def test_a_build_of_other_sources_is_not_used(builds: Path) -> None:
    _fake_build(native.build_dir("0" * 64))
    assert native.current_finder() is None


def test_a_build_missing_one_module_is_not_used(builds: Path) -> None:
    directory = native.build_dir(native.source_digest())
    _fake_build(directory)
    native.extension_files(directory)["aixin.registry.rules"].unlink()
    assert native.current_finder() is None


def test_aixin_native_0_turns_the_build_off(builds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_build(native.build_dir(native.source_digest()))
    monkeypatch.setenv("AIXIN_NATIVE", "0")
    assert native.current_finder() is None


def test_editing_any_source_of_the_package_changes_the_digest(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("A = 1\n")
    (package / "sub" / "b.py").write_text("B = 2\n")
    before = native.source_digest(package)
    (package / "sub" / "b.py").write_text("B = 3\n")
    assert native.source_digest(package) != before
    (package / "sub" / "b.py").write_text("B = 2\n")
    assert native.source_digest(package) == before


def test_the_import_runs_the_compiled_modules_where_they_are_required() -> None:
    """CI builds them (make test) and sets AIXIN_REQUIRE_NATIVE=1: the suite then tests the
    code that production runs."""
    import aixin.ingest.build  # noqa: F401 — what the import runs

    if os.environ.get("AIXIN_REQUIRE_NATIVE") != "1" and not native.in_use():
        pytest.skip("模块未编译（make native）：测试使用 Python 模块")
    assert native.in_use()


def test_a_machine_without_a_compiler_keeps_the_python_modules_and_the_install_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_compiler() -> Path:
        raise SystemExit("error: command 'gcc' failed: No such file or directory")  # as setuptools does

    monkeypatch.setattr(native, "build", no_compiler)
    assert native.main() == 0
    assert "not compiled" in capsys.readouterr().err
