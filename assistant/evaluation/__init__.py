"""Evaluation: the Q&A and draft sets run through the assistant, scored and reported.

`qa` (the Q&A sets), `metrics` (per-item results, metrics, thresholds), `baseline` (the naive
baseline), `run` (`assistant eval`), `drafts` (the planted-error draft set), `compare` (the
gold comparison matrix), `html_report`.

May import: the shared top and every stage before it, `assistant.documents` to `check` and
`assistant.compare`.
"""
