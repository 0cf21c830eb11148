"""The lexical index: Okapi BM25 over the passages' stemmed tokens, by ``bm25s``, kept on disk.

The tokens are the project's own (``assistant.text.tokens``: stopwords dropped, a light
stemmer, hyphenated words kept whole and in parts), so query expansion by synonyms and shared
roots works on the same vocabulary. ``bm25s`` scores with Lucene's BM25 (k1 1.5, b 0.75, idf
ln(1 + (N - df + 0.5) / (df + 0.5))): the formula retrieval used before, as a sparse matrix, so
a query costs a few column reads instead of a loop over every passage (0.2 ms instead of 128 ms
at 10,000 passages; benchmarks/lexical_engines.py).

A built index is saved beside the Chroma index under a key of the index's generation, so a
restart loads it instead of tokenising every passage again; any write to the index changes the
generation, and the next reader builds (and saves) a new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

K1, B = 1.5, 0.75
FORMAT = 1  # bump when the tokens or the saved layout change: older saves are then rebuilt
log = logging.getLogger(__name__)


class LexicalIndex:
    """BM25 over token lists, with the corpus statistics answers also use (idf, vocabulary)."""

    def __init__(self, model: Any, ids: Sequence[str]) -> None:
        import numpy as np

        self._model = model
        self.ids = list(ids)  # passage id of each row
        self._vocab: dict[str, int] = {t: i for t, i in model.vocab_dict.items() if t}
        n = len(self.ids)
        df = np.diff(np.asarray(model.scores["indptr"]))
        self.idf: dict[str, float] = {
            t: math.log(1 + (n - int(df[i]) + 0.5) / (int(df[i]) + 0.5))
            for t, i in self._vocab.items() if int(df[i]) > 0
        }
        self.max_idf = math.log(1 + (n + 0.5) / 0.5) if n else 1.0
        values = sorted(self.idf.values())
        self._typical = values[len(values) // 2] if values else 1.0

    @classmethod
    def build(cls, ids: Sequence[str], docs: Sequence[Sequence[str]]) -> LexicalIndex:
        """Index ``docs`` (token lists), row ``i`` standing for passage ``ids[i]``."""
        import bm25s

        model = bm25s.BM25(method="lucene", k1=K1, b=B)
        # bm25s cannot index an empty corpus; one empty row keeps the shapes valid.
        model.index([list(d) for d in docs] or [[]], show_progress=False)
        return cls(model, ids)

    # -- statistics -------------------------------------------------------------------------
    @property
    def vocab(self) -> set[str]:
        return set(self.idf)

    def __len__(self) -> int:
        return len(self.ids)

    def typical_weight(self) -> float:
        """The median IDF: the weight given to a question word the corpus never uses."""
        return self._typical

    def idf_among(self, term: str, rows: Any) -> float | None:
        """IDF of ``term`` among the rows a boolean mask keeps (as ``idf`` counts over all), or
        None when the term is not indexed or the mask keeps no row."""
        import numpy as np

        n = int(rows.sum())
        if term not in self.idf or not n:
            return None
        at, indptr = self._vocab[term], self._model.scores["indptr"]
        df = int(rows[np.asarray(self._model.scores["indices"][indptr[at]:indptr[at + 1]])].sum())
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def weight(self, term: str) -> float:
        """IDF of a term; a term the corpus never uses gets the highest weight."""
        return self.idf.get(term, self.max_idf)

    # -- scoring ----------------------------------------------------------------------------
    def scores(self, query: Iterable[str], boost: dict[str, float] | None = None) -> Any:
        """BM25 of every row as a numpy array; ``boost`` scales a term's part (default 1)."""
        import numpy as np

        boost = boost or {}
        groups: dict[float, list[int]] = {}
        for t in dict.fromkeys(query):
            if t in self.idf:
                groups.setdefault(boost.get(t, 1.0), []).append(self._vocab[t])
        out = np.zeros(len(self.ids), dtype=np.float64)
        for weight, term_ids in groups.items():
            got = self._model.get_scores(term_ids)[: len(self.ids)]
            out += weight * got.astype(np.float64)
        # bm25s leaves out BM25's constant factor (k1 + 1); put it back so that scores read
        # as before (fusion divides by the top score, so ranking does not depend on it).
        return out * (K1 + 1)

    def top(
        self,
        query: Iterable[str],
        n: int,
        boost: dict[str, float] | None = None,
        accept: Callable[[int], bool] | None = None,
        scores: Any = None,
    ) -> list[tuple[int, float]]:
        """The ``n`` best rows with a positive score (and accepted), as (row, score), best first.
        ``scores``: :meth:`scores` of the same query and boost, when the caller has them.

        Equal scores keep row order, so a ranking does not depend on the engine's float noise.
        """
        import numpy as np

        s = self.scores(query, boost) if scores is None else scores
        rows = np.flatnonzero(s > 0)
        # Scores rounded to 6 digits of the top score before ordering: float32 sums of the
        # same terms in another order must tie, as the passages they score are equally good.
        keys = np.round(s[rows] / max(float(s.max(initial=0.0)), 1e-12), 6)
        order = rows[np.lexsort((rows, -keys))]
        out: list[tuple[int, float]] = []
        for i in order:
            if accept is None or accept(int(i)):
                out.append((int(i), float(s[i])))
                if len(out) == n:
                    break
        return out

    # -- on disk ------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write the index to ``folder`` (replaced atomically)."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".lexical-", dir=folder.parent))
        try:
            self._model.save(str(tmp), show_progress=False)
            (tmp / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        model = bm25s.BM25.load(str(folder), show_progress=False)
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        return cls(model, ids)


def store_key(generation: object) -> str:
    """The folder name of a saved index for one generation of the passage index."""
    basis = json.dumps([FORMAT, K1, B, repr(generation)])
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def cached(
    folder: Path | None,
    generation: object,
    build: Callable[[], LexicalIndex],
) -> LexicalIndex:
    """The index of this generation: loaded from ``folder`` if saved there, else built and saved.

    Older saves in ``folder`` are removed. A folder that cannot be written only costs the next
    start a rebuild; a save that cannot be read is rebuilt.
    """
    if folder is None:
        return build()
    key = store_key(generation)
    here = folder / key
    if (here / "ids.json").exists():
        try:
            return LexicalIndex.load(here)
        except Exception as exc:  # a damaged or partial save: build it again
            log.warning("the saved lexical index %s could not be read (%s); rebuilding", here, exc)
    lex = build()
    try:
        lex.save(here)
        for old in folder.iterdir():
            if old.name != key and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        log.warning("the lexical index could not be saved in %s (%s)", folder, exc)
    return lex


def cached_sentences(
    folder: Path | None,
    generation: object,
    read: Callable[[], tuple[list[tuple[str, int, int]], Any]],
) -> tuple[list[tuple[str, int, int]], Any]:
    """Every sentence (passage id, start, end) and its vector, saved beside the lexical index.

    Reading 60,000 sentence vectors back from Chroma took 28 s (50x the bundled corpus, a busy
    machine); a saved float32 matrix loads in a fraction of a second. Same key and lifetime as
    the lexical index of this generation (call :func:`cached` first: it creates the folder).
    """
    import numpy as np

    here = folder / store_key(generation) if folder is not None else None
    if here is not None and (here / "sentences.npy").exists():
        try:
            rows = [tuple(r) for r in json.loads(
                (here / "sentences.json").read_text(encoding="utf-8"))]
            matrix = np.load(here / "sentences.npy")
            if len(rows) == len(matrix):
                return rows, matrix  # type: ignore[return-value]
        except (OSError, ValueError) as exc:
            log.warning("the saved sentence vectors in %s could not be read (%s)", here, exc)
    rows, matrix = read()
    if here is not None and here.is_dir():
        try:
            for name, write in (("sentences.npy", lambda f: np.save(f, matrix)),
                                ("sentences.json", lambda f: f.write(json.dumps(rows).encode()))):
                tmp = here / f".{name}.{os.getpid()}"
                with tmp.open("wb") as fh:
                    write(fh)
                os.replace(tmp, here / name)
        except OSError as exc:
            log.warning("the sentence vectors could not be saved in %s (%s)", here, exc)
    return rows, matrix
