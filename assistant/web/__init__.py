"""The chat page (gradio): one module per tab, source cards, exports, auth, the server.

`page` (`build_app`: the page assembled from the tab builders), `chat_tab`, `corpus_tab`,
`eval_tab`, `check_tab`, `sources` (cards and chat messages), `catalog` (what the index
holds), `uploads`, `feedback`, `exports`, `document_view`, `render` (safe Markdown),
`auth` (binding, password, login limit), `server` (`serve`). CSS and JavaScript are static
files in `static/`.

May import: every stage before it, `assistant.documents` to `evaluation`; never `assistant.cli`.
"""
