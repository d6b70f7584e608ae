"""JobBrowser end to end: JupyterLab on 127.0.0.1, Debian's Chromium driven by Playwright.

A temporary folder holds a small dump (one job's suffix is an HTML injection) and a
notebook that displays ``ftkit.JobBrowser`` on it. JupyterLab serves the folder on a free
port with a token; Chromium opens the notebook, runs all cells from the Run menu, ticks
the malicious job's row, and we check that its detail pane and loss-curve image appear,
that the suffix is shown as text, and that no alert fired. The server is always shut down.

Chromium comes from Debian (``apt-get install -y chromium``), never from Playwright's
downloads. Without ``/usr/bin/chromium`` the test is skipped, except under CI (the ``CI``
environment variable set), where it fails. ``FTKIT_CHROMIUM`` names another Chromium
binary; ``FTKIT_E2E_SCREENSHOT=/path/shot.png`` keeps screenshots of the detail and compare
panes (``shot.png``, ``shot-compare.png``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import msgspec
import pytest

CHROMIUM = Path(os.environ.get("FTKIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
REPO = Path(__file__).resolve().parents[1]
EVIL = "<img src=x onerror=alert(1)>"
EVIL_ID = "7e57e2e0-0000-4000-8000-0000000000e1"
T0 = 1_717_200_000
TIMEOUT_MS = 180_000  # JupyterLab is slow to start on a busy two-core machine


def _missing(what: str) -> None:
    msg = f"{what}; the end-to-end browser test cannot run"
    if os.environ.get("CI"):
        pytest.fail(f"{msg} (CI is set, so this is a failure: .ci/run must install it)", pytrace=False)
    pytest.skip(msg)


def _job(job_id: str, suffix: str | None, day: int, lr: float) -> dict:
    steps = (10, 20, 30, 40)
    return {
        "id": job_id,
        "model": "open-mistral-7b",
        "status": "SUCCESS",
        "job_type": "completion",
        "created_at": T0 + day * 86_400,
        "modified_at": T0 + day * 86_400 + 3_600,
        "suffix": suffix,
        "training_files": ["file-1"],
        "hyperparameters": {"training_steps": 40, "learning_rate": lr},
        "metadata": {"cost": 2.5, "cost_currency": "USD"},
        "events": [
            {"name": "status-updated", "created_at": T0 + day * 86_400 + s, "data": {"status": status}}
            for s, status in ((0, "QUEUED"), (60, "RUNNING"), (3_600, "SUCCESS"))
        ],
        "checkpoints": [
            {
                "step_number": step,
                "created_at": T0 + day * 86_400 + step * 60,
                "metrics": {"train_loss": 2.0 / (1 + i), "valid_loss": 2.2 / (1 + i), "valid_mean_token_accuracy": 1.5},
            }
            for i, step in enumerate(steps)
        ][::-1],
    }


def _notebook() -> dict:
    source = "import ftkit\n\nbrowser = ftkit.JobBrowser(\"jobs.ndjson\")\nbrowser"
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "browser", "metadata": {},
                   "outputs": [], "source": source}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a folder with the dump and the notebook: (base url, token)."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        import jupyterlab  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        _missing(f"{exc.name} is not installed")

    root = tmp_path_factory.mktemp("lab")
    jobs = [
        _job("0c0ffee0-0000-4000-8000-000000000001", "baseline", 0, 1e-4),
        _job(EVIL_ID, EVIL, 1, 3e-4),
        _job("0c0ffee0-0000-4000-8000-000000000003", "<b>bold</b>", 2, 5e-5),
    ]
    (root / "jobs.ndjson").write_bytes(b"\n".join(msgspec.json.encode(job) for job in jobs) + b"\n")
    (root / "browser.ipynb").write_text(json.dumps(_notebook()))
    for name in ("config", "runtime", "settings", "workspaces"):
        (root / f".{name}").mkdir()
    # A fresh user's settings, less two prompts: start the notebook's kernel without asking,
    # and never fetch news or check for updates (no network).
    for plugin, settings in (
        ("notebook-extension/tracker", {"autoStartDefaultKernel": True}),
        ("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False}),
    ):
        path = root / ".settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    port, token = _free_port(), uuid.uuid4().hex
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "JUPYTER_CONFIG_DIR": str(root / ".config"),
        "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    env.pop("MPLBACKEND", None)  # the kernel uses Jupyter's inline backend, as a user's does
    log = open(root / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.user_settings_dir={root / '.settings'}",
            f"--LabApp.workspaces_dir={root / '.workspaces'}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.news_url=",
            "--LabApp.extension_manager=readonly",  # no look-ups on a package index
            *(["--allow-root"] if os.geteuid() == 0 else []),  # CI runs as root
        ],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n{(root / 'server.log').read_text()[-3000:]}")
            try:
                if _get(f"{base}/api/status", token) == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in 120 s:\n{(root / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, token, root
    finally:
        _shut_down(server, base, token)
        log.close()


def _shut_down(server: subprocess.Popen, base: str, token: str) -> None:
    """Ask the server to stop (it stops its kernels), then make sure it has."""
    if server.poll() is None:
        request = urllib.request.Request(
            f"{base}/api/shutdown", method="POST", headers={"Authorization": f"token {token}"}
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def test_clicking_a_row_in_jupyterlab_shows_its_detail_pane_and_plot(lab):
    from playwright.sync_api import expect, sync_playwright

    base, token, root = lab
    expect.set_options(timeout=TIMEOUT_MS)
    dialogs: list[str] = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(f"{base}/lab/tree/browser.ipynb?token={token}")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            # The kernel is up once the status bar says so (a "Select Kernel" prompt, should a
            # JupyterLab version still ask, is answered with the notebook's own kernel).
            idle = page.locator(".jp-StatusBar-Widget", has_text="Idle")
            select = page.locator(".jp-Dialog .jp-mod-accept", has_text="Select")
            idle.or_(select).first.wait_for()
            if select.count():
                select.click()
            idle.first.wait_for()
            # Run all cells from the menu, as a user would.
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

            rows = page.locator(".ftkit-browser .ftkit-row:visible")  # one per job on the page
            expect(rows).to_have_count(3)
            expect(page.locator(".ftkit-count")).to_contain_text("3 of 3 jobs match")
            # The table shows the suffix as text (clipped to its column), never as markup.
            expect(page.locator(".ftkit-browser .ftkit-row-box", has_text=EVIL_ID[:8])).to_contain_text("<img src=x")

            row = page.locator(".ftkit-row", has_text=EVIL_ID[:8])
            row.locator("input[type=checkbox]").click()
            expect(row.locator("input[type=checkbox]")).to_be_checked()

            detail = page.locator(".ftkit-detail .ftkit-detail-html")
            expect(detail).to_contain_text("Hyperparameters")
            expect(detail).to_contain_text(EVIL_ID)
            expect(detail).to_contain_text(EVIL)  # the suffix, literally
            plot = page.locator(".ftkit-detail img.ftkit-detail-plot")
            expect(plot).to_be_visible()
            page.wait_for_function(
                "() => { const img = document.querySelector('.ftkit-detail img.ftkit-detail-plot');"
                " return img && img.complete && img.naturalWidth > 100; }"
            )
            screenshot = os.environ.get("FTKIT_E2E_SCREENSHOT")
            page.screenshot(path=screenshot or str(root / "browser.png"), full_page=True)

            # A second tick switches to compare mode: both jobs side by side, curves overlaid.
            page.locator(".ftkit-row", has_text="0c0ffee0").first.locator("input[type=checkbox]").click()
            compare = page.locator(".ftkit-detail .ftkit-compare-html")
            expect(compare).to_contain_text("Comparing 2 jobs")
            expect(compare).to_contain_text("learning_rate")
            expect(compare).to_contain_text(EVIL)
            page.wait_for_function(
                "() => { const img = document.querySelector('.ftkit-detail img.ftkit-detail-plot');"
                " return img && img.complete && img.naturalWidth > 800; }"  # the wider compare figure
            )
            page.screenshot(path=(screenshot or str(root / "browser.png")).replace(".png", "-compare.png"))

            # The injected markup never became an element, and nothing ran.
            assert page.locator('img[src="x"]').count() == 0
            assert page.locator(".ftkit-browser b", has_text="bold").count() == 0
            page.wait_for_timeout(500)
            assert dialogs == [], f"a dialog fired: {dialogs}"
        except Exception:
            page.screenshot(path=str(root / "failure.png"), full_page=True)
            print(f"screenshot of the failure: {root / 'failure.png'}; server log: {root / 'server.log'}")
            raise
        finally:
            chromium.close()

