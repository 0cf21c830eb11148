"""Checking a draft: every claim and reference of a text against the indexed documents.

`draft` (`check_draft`), `split` (claims and the references written in a draft), `facts`
(figures, years, countries, polarity, compared), `evidence` (candidate sentences, judged),
`references` (a draft's references resolved), `report` (`DraftReport` and its renderings),
`reading` (a draft from .txt, .md, .pdf or .docx), `cli` (`assistant check`).

May import: the shared top, `assistant.documents`, `store`, `retrieve` and `answer`.
"""
