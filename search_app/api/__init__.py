"""The HTTP API (`python -m search_app api`): see app.py and docs/api.md."""

from __future__ import annotations

import os
from pathlib import Path


def quiet_openmp() -> None:
    """Threads that wait at an OpenMP barrier sleep instead of spinning, unless OMP_WAIT_POLICY says
    otherwise. Two OpenMP runtimes share a server's cores (the embedding engine's and FAISS's, each
    bundled with its wheel); spinning, each one's idle threads took the CPU the other needed: on a
    busy 2-core machine a worker answered one client in 200–2,500 ms instead of 20–60 ms
    (docs/api.md, "Measurements"). Set before either runtime is loaded (both load lazily)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def serve(index_dir: Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the API under uvicorn. Settings travel to the workers in the environment: each worker
    process builds its own app (and opens the index) from it."""
    import uvicorn

    from indexer.store import index_exists
    from indexer.store.base import IndexNotFound
    from search_app.api.settings import ApiSettings

    # Checked here, once: a worker that cannot open the index would only print a traceback.
    if not index_exists(index_dir):
        raise IndexNotFound(f"No index in {index_dir}. Build one with: "
                            f"python -m indexer build corpus/ --index {index_dir}")
    quiet_openmp()  # inherited by every worker process
    os.environ["VNSEARCH_INDEX"] = str(index_dir)
    from search_app.api.server import uvicorn_options

    settings = ApiSettings.from_env()  # a bad setting or token file fails here, once, not in every worker
    uvicorn.run("search_app.api.app:from_env", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_level="info", **uvicorn_options(settings))
