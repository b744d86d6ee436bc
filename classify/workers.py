"""What every forked worker process of classify does first."""

import signal


def ignore_interrupt() -> None:
    """Pool initializer. Ctrl-C reaches the whole process group: the parent alone reacts (it stops the pool
    and says what was kept); a worker that took the signal too would print a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
