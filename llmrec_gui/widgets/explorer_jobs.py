"""The Explore view's background work: every job belongs to a generation, and a result reaches the
panel only if the run and user are still the ones it was started for (late results are dropped, not
shown over the new selection). The frontier sweep is a job of its own, replaced by the next one."""
from __future__ import annotations

from llmrec_gui import workers


class ExplorerJobs:
    def __init__(self, on_error):
        self.on_error = on_error
        self.generation = 0
        self.jobs: list = []
        self.frontier_job = None

    def start(self, executor, fn, *args, on_done, **kwargs):
        """`executor.submit(fn, *args)` in a worker; its result reaches `on_done` only if nothing changed meanwhile."""
        gen = self.generation
        job = workers.run_async(executor, fn, *args, on_done=lambda r: gen == self.generation and on_done(r),
                                on_error=lambda m: gen == self.generation and self.on_error(m), **kwargs)
        self.jobs = [j for j in self.jobs if workers.is_running(j)] + [job]
        return job

    def invalidate(self) -> None:
        """The selection moved on: whatever is still running reports to nobody."""
        self.generation += 1

    def cancel_all(self) -> None:
        self.invalidate()
        for job in self.jobs + [self.frontier_job]:
            if job is not None:
                job.cancel()
        self.jobs = []

    def start_frontier(self, executor, fn, *args, on_done, on_error, **kwargs):
        """The frontier sweep: a newer one cancels the one before."""
        if self.frontier_job is not None:
            self.frontier_job.cancel()
        self.frontier_job = workers.run_async(executor, fn, *args, on_done=on_done, on_error=on_error, **kwargs)
        return self.frontier_job
