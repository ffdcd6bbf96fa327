"""`make test` on a fresh machine: the Chromium the browser tests need is
installed by the Makefile (as root, or with sudo that needs no password), or
`make` stops at once with the one command to run. .ci/run only calls `make
test`, so CI and the README's command behave alike. (Run with a PATH of fake
`id`, `sudo` and `apt-get`: nothing is installed.)"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _fake_bin(tmp_path: Path, uid: int, sudo: bool) -> tuple[Path, Path]:
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    scripts = {"id": f'echo {uid}', "apt-get": f'echo "apt-get $*" >> {log}'}
    if sudo:
        scripts["sudo"] = f'echo "sudo $*" >> {log}; [ "$1" = "-n" ] && exit 0; "$@"'
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return bin_dir, log


def _make(tmp_path: Path, bin_dir: Path, target: str = "chromium") -> subprocess.CompletedProcess:
    return subprocess.run([MAKE, "-s", "-C", str(ROOT), target, "CHROMIUM_BIN=/nonexistent/chromium",
                           f"VENV={tmp_path / 'venv'}"],
                          env={"PATH": str(bin_dir), "HOME": str(tmp_path)}, capture_output=True, text=True, timeout=60)


def test_without_root_or_sudo_make_test_stops_at_once_with_the_command(tmp_path):
    bin_dir, log = _fake_bin(tmp_path, uid=1000, sudo=False)
    done = _make(tmp_path, bin_dir, "test")
    assert done.returncode != 0
    assert "sudo apt-get install -y -q chromium chromium-driver" in done.stderr
    assert not (tmp_path / "venv").exists()  # stopped before the long install
    assert not log.exists()


def test_as_root_it_installs_with_apt_get(tmp_path):
    bin_dir, log = _fake_bin(tmp_path, uid=0, sudo=False)
    done = _make(tmp_path, bin_dir)
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines() == ["apt-get install -y -q chromium chromium-driver"]


def test_with_passwordless_sudo_it_installs_with_sudo(tmp_path):
    bin_dir, log = _fake_bin(tmp_path, uid=1000, sudo=True)
    done = _make(tmp_path, bin_dir)
    assert done.returncode == 0, done.stderr
    assert "sudo apt-get install -y -q chromium chromium-driver" in log.read_text()
    assert "apt-get install -y -q chromium chromium-driver" in log.read_text().splitlines()


def test_present_chromium_needs_nothing(tmp_path):
    bin_dir, log = _fake_bin(tmp_path, uid=1000, sudo=False)
    (bin_dir / "chromium").write_text("#!/bin/sh\n")
    (bin_dir / "chromium").chmod(0o755)
    assert _make(tmp_path, bin_dir).returncode == 0 and not log.exists()


def test_ci_runs_the_readme_command_only():
    run = (ROOT / ".ci" / "run").read_text()
    assert "make test" in run and "apt-get" not in run


def test_make_test_does_not_write_the_docs_screenshots():
    """The tests write screenshots to a temporary folder; `make screenshots` refreshes docs/screenshots."""
    makefile = (ROOT / "Makefile").read_text()
    assert "BRIEFING_QA_SCREENSHOTS=docs/screenshots" in makefile.split("\nscreenshots:", 1)[1].split("\n\n")[0]
    conftest = (ROOT / "tests" / "browser" / "conftest.py").read_text()
    assert '"docs" / "screenshots"' not in conftest
