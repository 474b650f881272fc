"""The page under cProfile, one stats file per rerun: served by `page_protocol --profile DIR`.

Streamlit runs this file as the page (PAGE_APP); it runs search_app/page/app.py as `streamlit run`
would and writes each rerun's profile to $PAGE_PROFILE_DIR/<thread>-<n>.prof.
"""

import cProfile
import itertools
import os
import runpy
import threading
from pathlib import Path

_APP = str(Path(__file__).resolve().parent.parent / "search_app" / "page" / "app.py")
_OUT = Path(os.environ["PAGE_PROFILE_DIR"])
_prof = cProfile.Profile()
_prof.enable()
try:
    runpy.run_path(_APP, run_name="__main__")
finally:
    _prof.disable()
    _n = next(itertools.count(len(list(_OUT.glob("*.prof")))))
    _prof.dump_stats(str(_OUT / f"{threading.get_ident()}-{_n}-{os.urandom(3).hex()}.prof"))
