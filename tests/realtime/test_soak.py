"""The soak, short: the whole live stack with device faults on stays flat and error-free.

`make soak` runs the same thing for 30 minutes (bench/soak.py); here a minute and a half
of it runs in every test run, and its verdict must pass.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.soak import COUNT, MEMORY, device_links, fd_kinds, flat

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(360)
def test_the_live_stack_survives_a_short_soak_with_faults_on():
    """Two pollers, daphne and uvicorn, 20 clients, page loads and a socket going
    mid-stream every second against a misbehaving stage: memory, fds, tasks, Redis keys
    and pub/sub channels stay flat, nothing logs an error under load, every client stays
    connected and ends with the view Redis holds."""
    result = subprocess.run(
        [sys.executable, "bench/soak.py", "--minutes", "1", "--warmup", "30", "--interval", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=330,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "\nPASS" in result.stdout


def test_a_steady_figure_passes_and_a_growing_one_fails():
    steady = [100.0 + (i % 3) for i in range(30)]
    growing = [100.0 + 2 * i for i in range(30)]
    assert flat("rss", steady, MEMORY).ok
    assert not flat("rss", growing, MEMORY).ok
    assert not flat("fds", [40.0 + i for i in range(30)], COUNT).ok


def test_too_few_samples_fail_rather_than_pass_by_default():
    assert not flat("fds", [1.0] * 9, COUNT).ok


def test_a_socket_whose_far_end_closed_reads_close_wait_to_nobody():
    """fd kinds name a TCP socket's state and who holds its other end, so a socket kept
    open after its peer left is told apart from a live link."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
    with client:
        linked = fd_kinds({"poller-1": os.getpid()})["poller-1"]
        accepted.close()
        assert client.recv(1) == b""  # the peer's FIN has arrived: CLOSE_WAIT from here on
        left = fd_kinds({"poller-1": os.getpid()})["poller-1"]
    assert linked["tcp ESTABLISHED to poller-1"] - left["tcp ESTABLISHED to poller-1"] == 2
    assert left["tcp CLOSE_WAIT to nobody"] - linked["tcp CLOSE_WAIT to nobody"] == 1


def test_only_open_links_between_pollers_and_devices_are_device_links():
    poller = Counter({"tcp ESTABLISHED to devices": 3, "tcp CLOSE_WAIT to nobody": 1, "pipe": 6})
    devices = Counter(
        {"tcp ESTABLISHED to poller-2": 2, "tcp LISTEN": 11, "tcp ESTABLISHED to poller-1": 1}
    )
    assert device_links("poller-1", poller) == 3
    assert device_links("devices", devices) == 3
    assert device_links("daphne", Counter({"tcp ESTABLISHED to soak": 20})) == 0
