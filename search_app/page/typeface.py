"""One typeface for every Vietnamese text of the page: document text, citations, buttons, the map,
the graph and Streamlit's own widgets.

DejaVu Sans (Debian's fonts-dejavu-core, installed by scripts/system-deps.sh) has a precomposed
glyph for every Vietnamese letter with its tone mark ("ố", "ệ", "ữ"): the marks stack as one glyph
instead of being drawn apart by a fallback ("sô´", "quyêt́" in a monospace font that lacks them).
Streamlit's icons keep their own icon font.
"""

from __future__ import annotations

FONT_FAMILY = '"DejaVu Sans", "Noto Sans", sans-serif'
# Graphviz (the relations graph) names one family; the browser draws its labels.
GRAPH_FONT = "DejaVu Sans"

CSS = """<style>
html, body, .stApp, .stApp *:not([data-testid="stIconMaterial"]):not([class*="material-symbols"]) {
  font-family: %FONT% !important;
}
</style>""".replace("%FONT%", FONT_FAMILY)
