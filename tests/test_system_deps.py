"""scripts/system-deps.sh: what `make test` checks first, so a fresh machine fails in seconds, not minutes."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from helpers import ROOT

SCRIPT = ROOT / "scripts" / "system-deps.sh"
BASH = shutil.which("bash") or "/bin/bash"


def _run(env: dict[str, str], *args: str, timeout: float = 20) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    proc = subprocess.run([BASH, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout)
    return proc, time.monotonic() - start


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """A present file, a present versioned file (glob), and the pairs naming them or missing ones."""
    (tmp_path / "present").write_text("x")
    (tmp_path / "share" / "5").mkdir(parents=True)
    (tmp_path / "share" / "5" / "vie.dat").write_text("x")
    present = f"{tmp_path}/present=pkg-a {tmp_path}/share/*/vie.dat=pkg-glob"
    missing = f"{tmp_path}/absent=pkg-b\n{tmp_path}/absent-too=pkg-b {tmp_path}/share/*/eng.dat=pkg-c"
    return {"present": present, "missing": missing, "tmp": str(tmp_path)}


def test_missing_without_apt_get_stops_at_once_with_the_command(files, tmp_path):
    no_tools = tmp_path / "empty-bin"  # a PATH with no apt-get (and nothing else)
    no_tools.mkdir()
    env = {"PATH": str(no_tools), "VNSEARCH_SYSDEPS": files["present"] + " " + files["missing"]}
    proc, seconds = _run(env)
    assert proc.returncode == 1, proc.stderr
    assert seconds < 5
    assert "sudo apt-get install -y pkg-b pkg-c" in proc.stderr  # each package once, in order
    assert "pkg-a" not in proc.stderr and "pkg-glob" not in proc.stderr


def test_all_present_is_silent_success(files):
    proc, _ = _run({"PATH": os.environ["PATH"], "VNSEARCH_SYSDEPS": files["present"]})
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_no_install_only_reports(files):
    env = {"PATH": os.environ["PATH"], "VNSEARCH_SYSDEPS": files["missing"], "VNSEARCH_NO_INSTALL": "1"}
    proc, seconds = _run(env)
    assert proc.returncode == 1 and seconds < 5
    assert "Run: sudo apt-get install -y pkg-b pkg-c" in proc.stderr


def test_run_mode_only_notes_what_is_missing(files):
    env = {"PATH": os.environ["PATH"], "VNSEARCH_SYSDEPS_OPTIONAL": files["missing"]}
    proc, _ = _run(env, "--run")
    assert proc.returncode == 0
    assert "note: OCR" in proc.stdout and "apt-get install -y pkg-b pkg-c" in proc.stdout
    proc, _ = _run({"PATH": os.environ["PATH"], "VNSEARCH_SYSDEPS_OPTIONAL": files["present"]}, "--run")
    assert (proc.returncode, proc.stdout) == (0, "")


def _fake_apt(tmp_path: Path, creates: Path | None) -> Path:
    """An apt-get that logs its arguments and, on install, creates the file the check looks for."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    body = f'#!/bin/sh\necho "$@" >> {log}; echo "$@"\n'
    body += f'[ "$1" = install ] && : > {creates}\nexit 0\n' if creates else '[ "$1" = install ] && exit 100\nexit 0\n'
    (bin_dir / "apt-get").write_text(body)
    (bin_dir / "apt-get").chmod(0o755)
    return bin_dir


@pytest.mark.skipif(os.geteuid() != 0, reason="the script installs only as root")
def test_as_root_it_installs_with_apt_get(tmp_path):
    target = tmp_path / "tool"
    bin_dir = _fake_apt(tmp_path, creates=target)
    proc, _ = _run({"PATH": str(bin_dir), "TMPDIR": str(tmp_path), "VNSEARCH_SYSDEPS": f"{target}=pkg-tool"})
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "apt.log").read_text().splitlines() == ["update -qq", "install -y -qq pkg-tool"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the script installs only as root")
def test_as_root_a_failed_install_exits_1_with_the_command(tmp_path):
    bin_dir = _fake_apt(tmp_path, creates=None)
    proc, _ = _run({"PATH": str(bin_dir), "TMPDIR": str(tmp_path), "VNSEARCH_SYSDEPS": f"{tmp_path}/tool=pkg-tool"})
    assert proc.returncode == 1
    assert "install -y -qq pkg-tool" in proc.stderr  # the end of apt-get's output
    assert "apt-get failed" in proc.stderr and "Run: apt-get install -y pkg-tool" in proc.stderr
    assert "command not found" not in proc.stderr


@pytest.mark.skipif(not shutil.which("make"), reason="no make")
def test_make_test_checks_system_packages_before_the_venv(files, tmp_path):
    env = {**os.environ, "VNSEARCH_SYSDEPS": files["missing"], "VNSEARCH_NO_INSTALL": "1"}
    # VENV points nowhere: had make reached the venv step it would have tried to create it there
    proc = subprocess.run(["make", "-C", str(ROOT), "test", f"VENV={tmp_path}/venv"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "sudo apt-get install -y pkg-b pkg-c" in proc.stderr
    assert not (tmp_path / "venv").exists() and "pip" not in proc.stdout + proc.stderr
