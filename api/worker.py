"""The projection worker beside the API: `casetrail serve` starts it, restarts it if it dies,
and stops it when the API stops.

Read models are kept up to date in a process of their own by default (CASETRAIL_PROJECTIONS=
worker): inside the API process their upkeep competed with commands for the interpreter's
lock, and made the default setup's commands several times slower than the command path
(bench/README.md). The worker is `casetrail projections run --with-parent`: it also stops by
itself if the API process is killed outright.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

logger = logging.getLogger(__name__)


class ProjectionWorker:
    """One `casetrail projections run` child process, supervised from a daemon thread."""

    def __init__(self, *, restart_delay: float = 1.0, stop_timeout: float = 15.0) -> None:
        self.restart_delay = restart_delay
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def command(self) -> list[str]:
        args = ["projections", "run", "--with-parent", "--parent-pid", str(os.getpid())]
        cli = Path(sys.executable).with_name("casetrail")
        if cli.exists():
            return [str(cli), *args]
        return [sys.executable, "-c", "from api.cli import app; app()", *args]

    def start(self) -> None:
        self._spawn()
        self._thread = threading.Thread(target=self._supervise, name="projection-worker")
        self._thread.daemon = True
        self._thread.start()

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            # The child inherits the environment, so it reads the same CASETRAIL_* settings.
            self.process = subprocess.Popen(self.command(), env=os.environ.copy())
            logger.info("projection worker started (pid %s)", self.process.pid)

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            process = self.process
            if process is None:
                return
            code = process.wait()
            if self._stopping.is_set():
                return
            logger.error("projection worker exited with %s; restarting", code)
            if self._stopping.wait(self.restart_delay):
                return
            self._spawn()

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            logger.warning("projection worker did not stop in %ss; killing it", self.stop_timeout)
            process.kill()
            process.wait()
