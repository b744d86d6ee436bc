"""What every forked worker process of classify does first."""

import contextlib
import signal


def ignore_interrupt() -> None:
    """Pool initializer. Ctrl-C reaches the whole process group: the parent alone reacts (it stops the pool
    and says what was kept); a worker that took the signal too would print a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def forking():
    """Hold Ctrl-C back while worker processes are forked. A SIGINT that lands during `os.fork` is handled
    in one of the at-fork hooks of the parent (logging's lock release), where Python prints and ignores the
    KeyboardInterrupt: the command would go on as if nothing was pressed. Blocked, the signal waits and is
    raised in the parent's own code as soon as the pool exists. The pool's threads, started meanwhile,
    keep it blocked, so it always reaches the main thread."""
    blocked = hasattr(signal, "pthread_sigmask")
    if blocked:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
