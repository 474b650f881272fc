"""Streamlit page: `streamlit run search_app/page/app.py`. Builds the page; searching is the Searcher's job.

Views, selected by the URL so that any of them can be bookmarked and shared:
- ``?q=…``                 search (the default);
- ``?key=KEY``             "Văn bản dẫn chiếu": a reference key (number or name), the document it
                           names (or what the corpus says about it), its validity, its relations
                           by type in both directions, the implementation chain, every citing passage;
- ``?doc=DOC_ID&ordinal=N`` the whole document, passage N marked and scrolled into view;
- ``?old=KEY&new=KEY``     "So sánh / Điểm mới": NEW compared with OLD part by part (page/compare_view.py).

One name per concept, as in the CLI and the API: ``doc`` is always a document id (``--doc``,
``Filters.doc``), ``key`` always a reference key (``refs KEY``, ``/v1/references?key=``), ``ordinal``
a passage's place in its document (hits' ``ordinal``). Links made with the earlier ``ref=`` and ``p=``
still open (`_params`).
"""

from __future__ import annotations

import logging
import threading

import streamlit as st

from indexer.records import doc_year, section_label
from indexer.settings import Settings
from indexer.store.base import IndexFormatError, IndexNotFound
from indexer.text.docnumbers import split_key
from search_app import labels
from search_app.api import quiet_openmp
from search_app.core import heap
from search_app.core.citation import OCR_NOTE, vn_date
from search_app.core.escape import label_text
from search_app.core.pipeline import SearchRequest, make_request
from search_app.core.searcher import Hit, Searcher, clip_query
from search_app.labels import STATUS_LABELS, cited_words, validity_words
from search_app.page import compare_view, export, follow_view, typeface
from search_app.page.citation_box import citation_html, install_page_script
from search_app.page.document_view import (
    document_header,
    document_height,
    find_in_document,
    show_document,
    shown_source,
)
from search_app.page.number_card import show_card
from search_app.page.originals import original_download
from search_app.page.relations_view import render as render_relations
from search_app.page.render import answer_spans, code_span, escape, escape_block, highlight
from search_app.page.start_view import start_view
from search_app.page.uploads import (
    ALLOWED,
    MAX_UPLOAD_BYTES,
    UploadError,
    add_and_index,
    client_identity,
    upload_policy,
)

log = logging.getLogger("search_app.page")
UPLOAD_LIMIT_MB = MAX_UPLOAD_BYTES // 2**20
REFRESH_WAIT_S = 5.0  # a reload waits this long for a newly published index before drawing the page
METHOD_LABELS = {"hybrid": "Kết hợp (ngữ nghĩa + từ khóa)", "dense": "Ngữ nghĩa", "keyword": "Từ khóa"}

CSS = """
<style>
.hit-title {font-size: 1.1rem; font-weight: 600; margin-top: .4rem;}
.hit-meta {color: #666; font-size: .85rem; margin-bottom: .3rem;}
.hit-text {line-height: 1.55; padding: .5rem .8rem; border-left: 3px solid #c0392b; background: #fafafa;}
.hit-text mark, .ctx mark {background: #ffe58a; padding: 0 .1rem;}
/* the answering sentence: a tint and underline light enough that the <mark>s inside stay visible */
.answer {background: #e8f1fb; border-bottom: 2px solid #2f6fb0; box-decoration-break: clone;
  -webkit-box-decoration-break: clone;}
.answer-hint {color: #2f6fb0; font-size: .8rem;}
.ctx {color: #555; font-size: .92rem; line-height: 1.5; margin: .3rem 0;}
.ctx-current {border-left: 3px solid #c0392b; padding-left: .5rem;}
.badge {display: inline-block; font-size: .8rem; padding: .05rem .5rem; border-radius: .6rem; margin: .1rem 0;}
.badge-repealed {background: #f8d7da; color: #842029;}
.badge-partly_repealed {background: #fff3cd; color: #664d03;}
.badge-amended {background: #e2f0fb; color: #084298;}
.badge-in_force {background: #d1e7dd; color: #0f5132;}
.badge-unknown {background: #eee; color: #555;}
.citation {font-size: .9rem; line-height: 1.45; padding: .35rem .6rem; background: #f6f6f6; border-radius: .3rem;
  margin-top: .4rem; user-select: all;}
.citation-label {color: #666; user-select: none;}
.copy {font-size: .85rem; padding: .1rem .6rem; margin: .3rem 0; cursor: pointer; border: 1px solid #bbb;
  border-radius: .25rem; background: #fff;}
.context summary {cursor: pointer; color: #444; font-size: .9rem; margin-top: .4rem;}
.evidence {color: #555; font-size: .85rem; border-left: 2px solid #ccc; padding-left: .5rem; margin: .2rem 0;}
</style>
"""


@st.cache_resource(show_spinner="Đang nạp chỉ mục…")
def get_searcher(index_dir: str) -> Searcher:
    # before the embedding engine and FAISS load their OpenMP runtimes: spinning at a barrier, their
    # threads took the CPU the other sessions needed (one query's vector 0.9–7.6 s instead of 0.1 s
    # on a busy 2-core machine; docs/reliability.md, "Page load")
    quiet_openmp()
    searcher = Searcher(index_dir)
    searcher.warm_up()  # the first page load, not some user's first search, pays for loading the model
    heap.settle()
    return searcher


_REFRESHING = threading.Lock()


def _refresh(searcher: Searcher) -> None:
    """Switch to a newer published index, waiting up to REFRESH_WAIT_S for it: the reload after an
    update then shows the new counts and lists. A switch that takes longer goes on in the background
    (the page is drawn from the current index meanwhile); one switch at a time per server."""
    if not _REFRESHING.acquire(blocking=False):
        return

    def run() -> None:
        try:
            if searcher.refresh():
                heap.settle()
        except Exception:  # noqa: BLE001 - a half-written or pruned generation: the next look retries
            log.warning("could not switch to the newer index; still serving the current one", exc_info=True)
        finally:
            _REFRESHING.release()

    worker = threading.Thread(target=run, name="vnsearch-page-refresh", daemon=True)
    worker.start()
    worker.join(REFRESH_WAIT_S)


OLD_PARAMS = {"ref": "key", "p": "ordinal"}  # links made before one name per concept: still open


def _params() -> dict[str, str]:
    """The URL's parameters, an earlier name (`OLD_PARAMS`) read as today's and the URL rewritten to it."""
    params = {k: st.query_params[k] for k in st.query_params}
    old = [k for k in OLD_PARAMS if k in params]
    for k in old:
        value = params.pop(k)
        params.setdefault(OLD_PARAMS[k], value)
    if old:
        st.query_params.clear()
        st.query_params.update(params)
    return params


def _go(**params: str) -> None:
    """Switch view by rewriting the URL's query string, then rerun."""
    st.query_params.clear()
    st.query_params.update({k: v for k, v in params.items() if v})
    st.rerun()


def _status(searcher: Searcher) -> None:
    """The index's details, for whoever runs the page: folded away under "Quản trị"."""
    status = searcher.status()
    built = status["built_at"]
    when = f"{built[8:10]}/{built[5:7]}/{built[:4]} {built[11:16]}" if len(built) >= 16 else built
    with st.sidebar.expander("Quản trị"):
        st.markdown(
            f"- Văn bản: **{status['documents']}**\n- Đoạn văn: **{status['passages']}**\n"
            f"- Mô hình: `{status['model']}`\n- Lập chỉ mục lúc: {escape(when)}"
        )


def _peer_ip() -> str | None:
    """The TCP peer of this session. st.context.ip_address hides loopback peers (None), which would
    log a direct local upload, or one through a local proxy, without an address."""
    try:
        from streamlit.runtime.context import _get_client_context  # private: no public API gives the peer

        client = _get_client_context()
        return client.remote_ip if client is not None else None
    except Exception:  # noqa: BLE001 - another Streamlit version: fall back to the public field
        return getattr(st.context, "ip_address", None)


def _upload(searcher: Searcher, settings: Settings) -> None:
    policy = upload_policy()
    if not policy.enabled:  # a shared page: no form unless the operator opened it (add_and_index checks too)
        st.sidebar.caption("Thêm văn bản vào kho: chưa được người quản trị mở trên trang này.")
        return
    with st.sidebar.expander("Thêm văn bản vào kho"):
        # the widget's own limit is the app's, so that what it says ("Tối đa 50 MB mỗi tệp") is what holds
        f = st.file_uploader(f"Tệp PDF, DOCX, TXT, MD, HTML (tối đa {UPLOAD_LIMIT_MB} MB)",
                             type=[e.lstrip(".") for e in ALLOWED], key="upload", max_upload_size=UPLOAD_LIMIT_MB)
        token = st.text_input("Mã tải lên", type="password", key="upload_token") if policy.needs_token else None
        if f is not None and st.button("Thêm và lập chỉ mục", key="upload_go"):
            # the size limit is checked (and the refusal logged) by add_and_index
            # the proxy's headers only from VNSEARCH_TRUSTED_PROXIES (README, "Serving a team")
            user, ip = client_identity(dict(st.context.headers), _peer_ip())
            try:
                with st.spinner("Đang lập chỉ mục…"):
                    path, report = add_and_index(f.name, f.getvalue(), settings.corpus, settings.index,
                                                 searcher.manifest.get("sources", [str(settings.corpus)]),
                                                 searcher.manifest["model"], token=token, policy=policy,
                                                 user=user, ip=ip)
            except UploadError as e:
                st.error(str(e))
                return
            searcher.refresh()
            st.success(f"Đã thêm {escape(path.name)}: {report.documents} văn bản, {report.passages} đoạn "
                       f"({report.embedded} đoạn mới được mã hóa).")


def _generation(searcher: Searcher) -> str:
    """What names the published index: results cached under it are dropped when an update lands."""
    m = searcher.manifest
    return str(m.get("generation") or m.get("built_at") or "")


@st.cache_resource(max_entries=4)
def _facets(index_dir: str, generation: str, _searcher: Searcher) -> tuple[list, list, list, dict]:
    """Document types, issuers, years and titles of one generation: computed once, not per rerun."""
    docs = _searcher.documents()
    return (sorted({d["doc_type"] for d in docs if d.get("doc_type")}),
            sorted({d["issuer"] for d in docs if d.get("issuer")}),
            sorted({y for d in docs if (y := doc_year(d.get("date"))) is not None}),
            {d["doc_id"]: d["title"] for d in docs})


def _request(searcher: Searcher, query: str) -> SearchRequest:
    """The search the sidebar asks for, in the doors' one vocabulary (core/pipeline.make_request): its
    filters, method, number of results and "Chỉ văn bản còn hiệu lực" (`in_force`, which the core
    applies, as for the CLI, the API and MCP)."""
    st.sidebar.header("Tìm kiếm")
    method = st.sidebar.radio("Phương thức", list(METHOD_LABELS), format_func=METHOD_LABELS.get, key="method")
    top_k = st.sidebar.slider("Số kết quả", 1, 50, 10, key="top_k")
    st.sidebar.header("Lọc")
    types, issuers, years, titles = _facets(str(searcher.index_dir), _generation(searcher), searcher)
    chosen_types = st.sidebar.multiselect("Loại văn bản", types, key="f_types", placeholder="Tất cả")
    chosen_issuers = st.sidebar.multiselect("Cơ quan ban hành", issuers, key="f_issuers", placeholder="Tất cả")
    year_range = None
    if len(years) > 1:
        year_range = st.sidebar.slider("Năm ban hành", years[0], years[-1], (years[0], years[-1]), key="f_years")
    chosen_docs = st.sidebar.multiselect("Chỉ trong các văn bản", sorted(titles, key=lambda d: titles[d]),
                                         format_func=lambda d: titles[d][:80], key="f_docs", placeholder="Tất cả")
    in_force = st.sidebar.checkbox("Chỉ văn bản còn hiệu lực", key="f_in_force",
                                   help="Bỏ qua văn bản mà các văn bản trong kho cho biết đã hết hiệu lực.")
    return make_request(query, top_k=top_k, method=method, type=chosen_types, issuer=chosen_issuers,
                        doc=chosen_docs, in_force=in_force,
                        year_from=year_range[0] if year_range and year_range[0] != years[0] else None,
                        year_to=year_range[1] if year_range and year_range[1] != years[-1] else None)


def shows_validity(validity: dict | None, numbered: bool) -> bool:
    """A badge only where validity means something: a numbered document, or one the corpus says is
    repealed or amended. An article or interview is neither in force nor out of it."""
    status = (validity or {}).get("status")
    return bool(status) and (numbered or status not in ("in_force", "unknown", "not_applicable"))


def validity_badge(validity: dict, numbered: bool = True) -> str:
    """HTML for a validity badge; every text in it is escaped. `numbered`: the document has a number
    (for an article or an interview "còn hiệu lực" means only that nothing in the corpus repeals it)."""
    status = validity.get("status")
    status = status if status in STATUS_LABELS else "unknown"  # a fixed word: safe as a class name
    shown = {**validity, "status": status, "since": validity.get("since") if status != "in_force" else None}
    label = validity_words(shown, numbered)
    return (f'<span class="badge badge-{status}" title="{escape("Theo các văn bản trong kho")}">'
            f"{escape(label)}</span>")


NO_ANSWER = labels.NO_ANSWER


def passage_html(hit: Hit, query: str, show_score: bool = True, body: str | None = None) -> str:
    """A hit as one block of HTML (title, details, badge, text, answer hint, citation and copy
    button): one element instead of eight per hit, which is what a browser spends its time on
    when ten sessions search at once. Every text from a document in it is escaped. `body`: the
    hit's text as `highlight(hit.text, query, hit.answer)` made it, when the caller has it already."""
    # a label that means something to a reader (core/answerable.py), never the fused score's decimals
    meta = [f"Mục: {escape(hit.section_label)}" if hit.section else "", f"Trang {hit.page}" if hit.page else "",
            f"Mức phù hợp: {escape(hit.match)}" if show_score and hit.match else ""]
    parts = [f'<div class="hit-title">{hit.rank}. {escape(hit.title)}</div>',
             f'<div class="hit-meta">{" · ".join(m for m in meta if m)}</div>']
    if shows_validity(hit.validity, bool(hit.doc_number)):
        parts.append(f"<div>{validity_badge(hit.validity, bool(hit.doc_number))}</div>")
    body = highlight(hit.text, query, hit.answer) if body is None else body
    parts.append(f'<div class="hit-text">{body}</div>')
    if answer_spans(hit.text, hit.answer):  # say in words, not only in colour, what the underline means
        parts.append(f'<div class="answer-hint">{escape("Phần gạch chân là câu trả lời cho câu hỏi.")}</div>')
    parts.append(citation_html(hit.citation))
    return "".join(parts)


def context_html(hit: Hit, query: str, neighbours: list[dict], hit_body: str | None = None) -> str:
    """The passages before and after a hit, folded in a native <details> (no Streamlit expander).
    `hit_body`: `highlight(hit.text, query, hit.answer)`, reused for the hit's own passage."""
    rows = []
    for p in neighbours:
        current = p["ordinal"] == hit.ordinal
        # the offsets are into hit.text: mark them only on the very same text
        same = p["text"] == hit.text
        if current and same and hit_body is not None:
            body = hit_body  # the very same text, query and answer: the same HTML, not made twice
        elif current:
            body = highlight(p["text"], query, hit.answer if same else None)
        else:
            body = escape_block(p["text"])
        rows.append(f'<div class="ctx{" ctx-current" if current else ""}">'
                    f'<small>{escape(section_label(p["section"]))}</small><br>{body}</div>')
    return f'<details class="context"><summary>{escape(CONTEXT_LABEL)}</summary>{"".join(rows)}</details>'


CONTEXT_LABEL = "Ngữ cảnh: đoạn trước và sau"


def _passage_box(hit: Hit, query: str, show_score: bool = True) -> None:
    st.html(passage_html(hit, query, show_score))
    _ocr_warning(hit)


def _ocr_warning(hit: Hit) -> None:
    if OCR_NOTE in hit.citation:  # the citation carries the marker for OCR'd pages (citation.is_ocr_page)
        st.warning("Đoạn này được nhận dạng tự động (OCR) từ bản quét nên có thể sai chữ; "
                   "cần đối chiếu bản gốc trước khi trích dẫn.")


def _cached_search(searcher: Searcher, request: SearchRequest) -> dict:
    """This session's results for `request` on this generation.

    A rerun that is not a new search (a click on a button, an expander, a download) reuses them, with
    the neighbours (one read for every hit) and documents each hit shows: under ten sessions on two
    cores the page spent its time re-running the same search and the same lookups on every rerun.
    One entry per session.
    """
    key = (repr(request), _generation(searcher))
    cached = st.session_state.get("_results")
    if cached is not None and cached["key"] == key:
        return cached
    result = searcher.search(request)
    hits = result.hits
    cached = {"key": key, "hits": hits, "result": result, "refs": searcher.cited_in(hits) if hits else {},
              "neighbours": searcher.neighbours_of(hits, radius=1), "docs": {}}
    st.session_state["_results"] = cached
    return cached


def _render_hit(searcher: Searcher, hit: Hit, query: str, refs: list[dict], cache: dict) -> None:
    with st.container(border=True):
        body = highlight(hit.text, query, hit.answer)
        st.html(passage_html(hit, query, body=body) + context_html(hit, query, cache["neighbours"][hit.pid], body))
        _ocr_warning(hit)
        with st.container(horizontal=True):  # one row of buttons, one element
            if st.button("Xem toàn văn", key=f"read-{hit.pid}"):
                _go(doc=hit.doc_id, ordinal=str(hit.ordinal), q=query)
            if hit.page and hit.doc_id not in cache["docs"]:  # only PDF passages have pages
                cache["docs"][hit.doc_id] = searcher.document(hit.doc_id)
            doc = cache["docs"].get(hit.doc_id) if hit.page else None
            if doc and str(doc.get("path", "")).lower().endswith(".pdf") and (
                    orig := original_download(searcher.manifest.get("sources", []), doc)):
                # on click the file is checked and read in one step: a swap after rendering serves nothing else
                st.download_button(f"Tải bản gốc (PDF, trang {hit.page})", data=orig[1], file_name=orig[0],
                                   mime="application/pdf", key=f"orig-{hit.pid}", on_click="ignore",
                                   help=f"Mở tệp rồi chuyển tới trang {hit.page}")
            seen: set[str] = set()
            for r in refs:
                if r["key"] in seen:
                    continue
                seen.add(r["key"])
                if st.button(label_text(r["label"]), key=f"ref-{hit.pid}-{r['key']}", type="tertiary",
                             help="Văn bản được dẫn chiếu: xem văn bản và các quan hệ của nó"):
                    _go(key=r["key"], q=query)


def search_view(searcher: Searcher) -> None:
    initial = st.query_params.get("q", "")
    query = st.text_input("Câu hỏi hoặc từ khóa (có thể gõ không dấu)", value=initial, key="q",
                          placeholder="Câu hỏi, từ khóa hoặc số hiệu văn bản")
    query, cut = clip_query(query)
    request = _request(searcher, query)
    if st.button("Văn bản dẫn chiếu →", key="to_refs"):
        _go(key="*", q=query)
    if not query:
        st.query_params.clear()
        start_view(searcher, _go)
        return
    st.query_params["q"] = query
    if cut:
        st.info(f"Câu hỏi quá dài nên chỉ dùng {len(query)} ký tự đầu.")
    cache = _cached_search(searcher, request)
    hits, result = cache["hits"], cache["result"]
    if hits and result.understood:  # the diacritics were put back: say how it was read
        st.caption(f"Hiểu câu hỏi là: {code_span(result.understood)} (dấu thanh lấy từ các đoạn văn tìm được)")
    show_card(searcher, result.card, query, _go)  # a query naming a document: its card comes first
    if not hits:
        st.info("Không tìm thấy đoạn văn nào phù hợp. Hãy thử từ khóa khác hoặc bỏ bớt bộ lọc.")
        return
    refs = cache["refs"]
    if not result.answerable:
        # the nearest passages stay reachable, folded away, not counted as results, nothing to export
        st.warning(NO_ANSWER)
        with st.expander("Các đoạn văn gần nhất — không đoạn nào trả lời câu hỏi"):
            for hit in hits:
                _render_hit(searcher, hit, query, refs.get(hit.pid, []), cache)
        return
    context = export.search_context(query, request.filters, METHOD_LABELS.get(request.method), result.answerable,
                                    _facets(str(searcher.index_dir), _generation(searcher), searcher)[3],
                                    in_force=request.in_force, index=searcher.status())
    cols = st.columns([3, 1, 1, 1])
    cols[0].caption(f"{len(hits)} kết quả")
    # exports are made on click (a callable), not on every rerun
    cols[1].download_button("Tải Markdown", lambda: export.to_markdown(query, hits, context), "ket-qua.md",
                            "text/markdown", key="dl_md", on_click="ignore")
    cols[2].download_button("Tải CSV", lambda: export.to_csv(hits, context), "ket-qua.csv", "text/csv", key="dl_csv",
                            on_click="ignore")
    cols[3].download_button("Tải JSON", lambda: export.to_json(query, hits, context), "ket-qua.json",
                            "application/json", key="dl_json", on_click="ignore")
    for hit in hits:
        _render_hit(searcher, hit, query, refs.get(hit.pid, []), cache)


def refs_view(searcher: Searcher, key: str) -> None:
    st.subheader("Văn bản dẫn chiếu")
    if st.button("← Quay lại tìm kiếm", key="back"):
        _go(q=st.query_params.get("q", ""))
    items = searcher.reference_list()
    if not items:
        st.info("Chưa có văn bản nào được dẫn chiếu trong kho.")
        return
    keys = [it["key"] for it in items]
    if key not in keys:  # a hit's dated key ("1288/QD-TTG@2023") under the list's one entry for its number
        key = next((k for k in keys if split_key(k)[0] == split_key(key)[0]), key)
    labels = {it["key"]: f"{it['label']} — được dẫn {it['citing_passages']} lần"
              + ("" if it["doc_ids"] else " (chưa có trong kho)") for it in items}
    index = keys.index(key) if key in keys else None
    chosen = st.selectbox("Chọn văn bản (gõ để tìm)", keys, index=index, format_func=lambda k: labels.get(k, k),
                          key="ref_pick",
                          placeholder="Số hiệu hoặc tên văn bản…")
    if chosen is None:
        return
    if chosen != key:
        _go(key=chosen, q=st.query_params.get("q", ""))
    res = searcher.references(chosen)
    doc = res["document"]
    if doc:
        st.markdown(f"### {escape(doc['title'])}")
        rows = [("Số hiệu", doc.get("doc_number")), ("Loại văn bản", doc.get("doc_type")),
                ("Cơ quan ban hành", doc.get("issuer")), ("Ngày", vn_date(doc.get("date"))),
                ("Nguồn", shown_source(doc))]
        st.markdown("\n".join(f"- **{k}:** {escape(str(v))}" for k, v in rows if v))
        passages = searcher.doc_passages(doc["doc_id"])
        with st.expander(f"Mục lục và toàn văn ({len(passages)} đoạn)"):
            show_document(doc, passages)
        if st.button("Mở toàn văn", key="open_doc"):
            _go(doc=doc["doc_id"], q=st.query_params.get("q", ""))
    else:
        # how to add it, in a user's words: folders and commands are the administrator's (README)
        how = ("dùng mục “Thêm văn bản vào kho” ở thanh bên" if upload_policy().enabled
               else "đề nghị người quản trị kho thêm tệp văn bản này")
        st.warning(f"{escape(res['label'])}: **chưa có trong kho**. Để thêm, {how}.")
    render_relations(searcher, res, _go, st.query_params.get("q", ""))
    cited = res["cited_by"]
    st.markdown(f"#### {cited_words(len(cited))}")
    by_doc: dict[str, list[Hit]] = {}
    for h in cited:
        by_doc.setdefault(h.doc_id, []).append(h)
    for group in by_doc.values():
        st.markdown(f"**{escape(group[0].title)}** — {len(group)} đoạn")
        for h in group:
            with st.container(border=True):
                _passage_box(h, res["label"], show_score=False)


def passage_ordinal(value: str | None) -> int | None:
    """`p=` as a passage number, or None: only ASCII digits, at most 9 ("²".isdigit() is true, and
    int() of 5,000 digits raises), so a hostile URL shows the document unmarked instead of crashing."""
    if value and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    return None


def reader_view(searcher: Searcher, doc_id: str, ordinal: str | None) -> None:
    if st.button("← Quay lại", key="back_read"):
        _go(q=st.query_params.get("q", ""))
    doc = searcher.document(doc_id)
    if doc is None:
        st.warning("Không có văn bản này trong kho.")
        return
    graph = searcher.relations()
    document_header(searcher, doc, _go)
    validity = graph.short_validity(doc_id)
    if shows_validity(validity, bool(doc.get("doc_number"))):
        st.markdown(validity_badge(validity, bool(doc.get("doc_number"))), unsafe_allow_html=True)
    if note := graph.citation_note(doc_id):
        st.warning(f"Văn bản này {escape(note.strip('()'))} ({escape('theo các văn bản trong kho')}).")
    hit = passage_ordinal(ordinal)
    within = st.text_input("Tìm trong văn bản này", key="find_in_doc", placeholder="Từ khóa")
    passages, hit, query = find_in_document(searcher.doc_passages(doc_id), within, hit, st.query_params.get("q", ""))
    show_document(doc, passages, hit, query, height=document_height(passages))


def main() -> None:
    """The page; an unexpected error shows a message in Vietnamese, its traceback goes to the server log."""
    try:
        _main()
    except Exception:  # st.rerun / st.stop are BaseExceptions and pass through
        log.exception("page error (query %s)", dict(st.query_params))
        st.error("Đã xảy ra lỗi khi hiển thị trang; lỗi đã được ghi lại ở máy chủ. "
                  "Hãy tải lại trang hoặc thử lại sau.")


def _main() -> None:
    st.set_page_config(page_title="Tra cứu văn bản chính trị", page_icon="📚", layout="wide")
    st.markdown(CSS + typeface.CSS, unsafe_allow_html=True)
    st.title("Tra cứu văn bản chính trị")
    settings = Settings.from_env()  # VNSEARCH_INDEX, VNSEARCH_CORPUS, uploads (indexer/settings.py)
    try:
        searcher = get_searcher(str(settings.index))
    except IndexFormatError as e:
        st.warning(f"Chỉ mục được lập bởi phiên bản cũ, cần lập lại: `make index`. ({escape(str(e))})")
        return
    except IndexNotFound:
        st.warning(
            f"Chưa có chỉ mục trong thư mục {code_span(str(settings.index))}. Hãy lập chỉ mục trước: "
            "`make index` (hoặc `python -m indexer build corpus/`), rồi tải lại trang."
        )
        return
    # A newer index published by the indexer is picked up without restart, prepared in the
    # background: this rerun and the other sessions' go on with the current one meanwhile.
    _refresh(searcher)
    _status(searcher)
    _upload(searcher, settings)
    follow_view.sidebar(searcher, settings.index)  # "Theo dõi": what is new since the last check
    params = _params()
    if "old" in params and "new" in params:
        compare_view.render(searcher, params["old"], params["new"], _go)
    elif "key" in params:
        refs_view(searcher, params["key"])
    elif "doc" in params:
        reader_view(searcher, params["doc"], params.get("ordinal"))
    else:
        search_view(searcher)
    install_page_script("vi")  # last: its (empty) element comes after the page's own


main()
