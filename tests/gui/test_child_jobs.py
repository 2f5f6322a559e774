"""ChildJob.cancel never blocks the GUI thread, whatever state the child is in (issue 8, section 4)."""
from __future__ import annotations

import os
import signal

import pytest

from llmrec_gui.child_jobs import ChildJob


@pytest.mark.parametrize("how", ["stopped", "killed"])
def test_cancel_never_blocks_on_a_stopped_or_dead_child(qtbot, how):
    from tests.gui.child_targets import wait_for_cancel
    job = ChildJob(wait_for_cancel)
    with qtbot.waitSignal(job.progress, timeout=120000):
        job.start()
    os.kill(job.process.pid, signal.SIGSTOP if how == "stopped" else signal.SIGKILL)
    if how == "killed":
        job.process.join(30)
    job.cancel()          # on the GUI thread, as the Cancel button does: it must return at once
    assert job.cancel_requested and job.child._flag.value == 1
    with qtbot.waitSignal(job.done, timeout=120000):
        if how == "stopped":
            os.kill(job.process.pid, signal.SIGCONT)   # it wakes, sees the flag and stops cleanly
    assert not job.running
    job.process.join(30)
