"""The implementation chain of a document as a Graphviz graph (DOT), drawn by the relationship view."""

from __future__ import annotations

from search_app.core.relations import RelationGraph
from search_app.labels import TYPE_LABELS
from search_app.page.typeface import GRAPH_FONT


def dot_escape(text: str) -> str:
    """Text safe inside a DOT double-quoted string: backslashes and quotes escaped (so no "\\N"-style
    escape sequence of the text is interpreted), line breaks as spaces."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


_STATUS_COLORS = {"repealed": "#f8d7da", "partly_repealed": "#fff3cd", "amended": "#e2f0fb",
                  "in_force": "#d4edda", "unknown": "#eeeeee"}


def node_color(node: dict) -> str:
    """A node's fill: its validity for a numbered document; grey ("không áp dụng") for an article or
    an interview, which has no validity (never the green of "còn hiệu lực")."""
    return _STATUS_COLORS[node["status"]] if node.get("key") else _STATUS_COLORS["unknown"]


def chain_dot(graph: RelationGraph, key: str) -> str:
    """The implementation chain of `key` as Graphviz DOT; every text from a document is DOT-escaped."""
    nodes, edges = graph.chain(key)
    lines = ["digraph chain {",
             f'  rankdir=TB; node [shape=box, fontname="{GRAPH_FONT}", fontsize=10]; '
             f'edge [fontsize=9, fontname="{GRAPH_FONT}"];']
    ids = {n["id"]: f"n{i}" for i, n in enumerate(nodes)}
    for n in nodes:
        title = n["title"][:70] + ("…" if len(n["title"]) > 70 else "")
        label = dot_escape(n["label"]) + (f"\\n{dot_escape(title)}" if title and title != n["label"] else "")
        style = "rounded,filled" if n["indexed"] else "rounded,filled,dashed"
        width = ", penwidth=2" if n["key"] == key else ""
        lines.append(f'  {ids[n["id"]]} [label="{label}", style="{style}", '
                     f'fillcolor="{node_color(n)}"{width}];')
    for e in edges:
        style = "solid" if e["type"] in ("implements", "guides", "basis") else "dashed"
        lines.append(f'  {ids[e["from"]]} -> {ids[e["to"]]} [label="{dot_escape(TYPE_LABELS[e["type"]])}", '
                     f"style={style}];")
    lines.append("}")
    return "\n".join(lines)
