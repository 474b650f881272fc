"""The HTTP API (`python -m search_app api`): see app.py and docs/api.md."""

from __future__ import annotations

import os
from pathlib import Path


def serve(index_dir: Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the API under uvicorn. Settings travel to the workers in the environment: each worker
    process builds its own app (and opens the index) from it."""
    import uvicorn

    from indexer.store.base import IndexNotFound, read_config
    from indexer.store.embedded.generation import current_generation
    from search_app.api.settings import ApiSettings

    # Checked here, once: a worker that cannot open the index would only print a traceback.
    if read_config(index_dir).get("backend", "embedded") == "embedded" and current_generation(index_dir) is None:
        raise IndexNotFound(f"No index in {index_dir}. Build one with: "
                            f"python -m indexer build corpus/ --index {index_dir}")
    os.environ["VNSEARCH_INDEX"] = str(index_dir)
    ApiSettings.from_env()  # a bad setting or token file fails here, once, not in every worker
    uvicorn.run("search_app.api.app:from_env", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_level="info")
