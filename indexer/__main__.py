import signal

from indexer.cli import main

# Piping into `head` should end quietly, not with a BrokenPipeError traceback.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
raise SystemExit(main())
