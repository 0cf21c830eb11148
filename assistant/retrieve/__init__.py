"""Retrieval: lexical (BM25) and dense search fused, filtered, trust-adjusted, diversified.

`hybrid` (`HybridRetriever`), `rerank` (the learned ranker of the wide candidate set),
`lexical` (BM25 by bm25s, saved beside the index), `filters` (`Filters`), `synonyms` (the
equivalence table for query terms), `glossary` (Armenian, Georgian and Russian question words
read as the domain's English terms), `terms` (`QueryTerms`, what both add to a question).

May import: the shared top, `assistant.documents` and `assistant.store`.
"""
