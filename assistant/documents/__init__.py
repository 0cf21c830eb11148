"""Documents: the corpus manifest, loaders, PDF and HTML extraction, chunking, fetching.

`manifest` (corpus.toml, uploads, what the corpus holds), `loaders` (one file into text with its
pages), `pdf` and `html` (extraction), `chunking` (headings, sections, cited passages), `fetch`
(download missing documents from their official addresses).

May import: the shared top only (`assistant.config`, `errors`, `types`, `text`, `safety`).
"""
