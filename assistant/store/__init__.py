"""The store: the Chroma index, embeddings, ingest, and locks and safe writes on disk.

`index` (the Chroma collections), `embeddings` (the models and their profiles), `ingest`
(documents into the index), `files` (the ingest lock, JSONL appends, disk-space checks).

May import: the shared top and `assistant.documents`.
"""
