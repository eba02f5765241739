"""`make run`'s supervisor (run_stack): every child stops, always; backoff starts afresh."""

from __future__ import annotations

import subprocess
import sys
import time

from micboard.management.commands.run_stack import STABLE_AFTER, Child, Command, stop_all

STUBBORN = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(120)\n"
)


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace():
    stubborn = Child("poller", [sys.executable, "-c", STUBBORN])
    stubborn.process = subprocess.Popen(stubborn.argv, stdout=subprocess.PIPE)
    assert stubborn.process.stdout is not None
    assert stubborn.process.stdout.readline() == b"ready\n"  # its handler is in place
    polite = Child("web", [sys.executable, "-c", "import time; time.sleep(120)"])
    polite.start()
    stop_all([stubborn, polite], grace=1.0)
    assert stubborn.process.poll() is not None
    assert polite.process is not None
    assert polite.process.poll() is not None


def test_a_child_that_ran_fine_for_a_while_restarts_after_two_seconds_not_thirty():
    child = Child("poller", [sys.executable, "-c", "pass"])
    child.failures = 10  # it had crashed often, long ago
    child.start()
    assert child.process is not None
    child.process.wait()
    child.started_at = time.monotonic() - STABLE_AFTER  # then it ran for a minute
    supervisor = Command()
    supervisor._restart_exited([child])
    assert child.failures == 1
    assert 1.5 < child.next_start - time.monotonic() <= 2.0
    stop_all([child], grace=1.0)


def test_the_stack_runs_the_roster_schedule_and_the_demo_its_planning_center(tmp_path):
    demo = {
        child.name: child
        for child in Command()._children(
            {"host": "127.0.0.1", "port": 8000, "no_demo": False}, tmp_path
        )
    }
    assert demo["rosters"].argv[-3:] == ["sync_rosters", "--every", "15"]
    assert demo["pco"].argv[-3:] == ["run_pco_simulator", "--port", "8765"]
    for name in ("web", "rosters"):
        assert demo[name].env["MICBOARD_PCO_URL"] == "http://127.0.0.1:8765"
    real = {
        child.name: child
        for child in Command()._children(
            {"host": "127.0.0.1", "port": 8000, "no_demo": True}, tmp_path
        )
    }
    assert "pco" not in real
    assert "MICBOARD_PCO_URL" not in real["rosters"].env
