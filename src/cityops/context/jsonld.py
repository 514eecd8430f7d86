"""JSON-LD @context handling for NGSI-LD: term expansion and compaction, offline first.

NGSI-LD needs only the term-level part of JSON-LD: attribute names, entity types and a few
values map to IRIs through the @context, with the core context always applied last. This
module resolves a @context (URLs, objects, arrays) into a term map once, caches it, and then
expands/compacts keys with dictionary look-ups, which is what lets ingest run at tens of
thousands of readings per second. The NGSI-LD core context and the Smart Data Models contexts
ship with CityOps; other remote contexts are fetched only when the operator allows it, with a
timeout, and cached.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx

DATA = Path(__file__).resolve().parent.parent / "data" / "jsonld"
CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
SDM_URL_FORMS = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.{s}/master/context.jsonld",
    "https://smart-data-models.github.io/dataModel.{s}/context.jsonld",
)


class ContextError(Exception):
    """A @context could not be loaded or understood (LdContextNotAvailable / InvalidRequest)."""

    def __init__(self, detail: str, *, unavailable: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.unavailable = unavailable


def _builtin_documents() -> dict[str, Path]:
    docs: dict[str, Path] = {}
    core = DATA / "ngsi-ld"
    for url, name in json.loads((core / "context-map.json").read_text())["map"].items():
        docs[url] = core / name
    for folder in sorted((DATA / "smart-data-models").iterdir()):
        for form in SDM_URL_FORMS:
            docs[form.format(s=folder.name)] = folder / "context.jsonld"
    return docs


COMPACT_MEMO = 4096


@dataclass
class ActiveContext:
    """A resolved @context: term -> IRI, and back."""

    source: Any
    terms: dict[str, str]
    vocab: str | None

    @cached_property
    def reverse(self) -> dict[str, str]:
        """Map IRI -> shortest term (compaction)."""
        out: dict[str, str] = {}
        for term, iri in self.terms.items():
            if iri not in out or len(term) < len(out[iri]):
                out[iri] = term
        return out

    def expand(self, term: str) -> str:
        """Expand a term (or compact IRI, or IRI) to a full IRI."""
        iri = self.terms.get(term)
        if iri is not None:
            return iri
        if ":" in term:
            prefix, _, suffix = term.partition(":")
            if suffix.startswith("//"):
                return term
            base = self.terms.get(prefix)
            return base + suffix if base else term
        return (self.vocab or DEFAULT_VOCAB) + term

    @cached_property
    def _compacted(self) -> dict[str, str]:
        return {}

    def compact(self, iri: str) -> str:
        """Compact a full IRI to the term this context uses for it (or leave it whole).

        Answers are kept per context (rendering a page of entities compacts the same few
        attribute names over and over); at most COMPACT_MEMO of them."""
        memo = self._compacted
        term = memo.get(iri)
        if term is None:
            if len(memo) >= COMPACT_MEMO:
                memo.clear()
            term = memo[iri] = self._compact(iri)
        return term

    def _compact(self, iri: str) -> str:
        term = self.reverse.get(iri)
        if term is not None:
            return term
        vocab = self.vocab or DEFAULT_VOCAB
        suffix = iri[len(vocab) :]
        if not iri.startswith(vocab) or "/" in suffix:
            return iri
        if suffix not in self.terms:
            return suffix
        # the short name means another IRI in this context: JSON-LD 1.1 IRI compaction
        # gives a compact IRI of the longest prefix term (ngsi-ld:default-context/x)
        prefixes = [
            t
            for t, base in self.terms.items()
            if ":" not in t and base.endswith(("/", "#")) and iri.startswith(base) and iri != base
        ]
        if not prefixes:
            return iri
        best = max(prefixes, key=lambda t: len(self.terms[t]))
        return f"{best}:{iri[len(self.terms[best]) :]}"

    @property
    def link_url(self) -> str | None:
        """The single context URL to advertise in a Link header, if the source was one URL."""
        if isinstance(self.source, str):
            return self.source
        if (
            isinstance(self.source, list)
            and len(self.source) == 1
            and isinstance(self.source[0], str)
        ):
            return self.source[0]
        return None


@dataclass
class ContextResolver:
    """Loads and caches @contexts; remote fetches only when allowed."""

    allow_remote: bool = False
    timeout_s: float = 5.0
    builtin: dict[str, Path] = field(default_factory=_builtin_documents)
    _documents: dict[str, Any] = field(default_factory=dict)
    _resolved: dict[str, ActiveContext] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @cached_property
    def core(self) -> ActiveContext:
        """The NGSI-LD core context alone."""
        return self.resolve(None)

    def document(self, url: str) -> Any:
        """Return the @context value of a context document, from the built-in copies or the web."""
        doc = self._documents.get(url)
        if doc is not None:
            return doc
        if url in self.builtin:
            doc = json.loads(self.builtin[url].read_text(encoding="utf-8"))
        elif not self.allow_remote:
            raise ContextError(
                f"@context {url} is not built in and remote contexts are disabled "
                "(CITYOPS_NGSI_LD__ALLOW_REMOTE_CONTEXTS)",
                unavailable=True,
            )
        else:
            doc = self._fetch(url)
        if not isinstance(doc, dict) or "@context" not in doc:
            raise ContextError(f"{url} is not a JSON-LD context document", unavailable=True)
        with self._lock:
            self._documents[url] = doc["@context"]
        return doc["@context"]

    def _fetch(self, url: str) -> Any:
        try:
            response = httpx.get(
                url,
                timeout=self.timeout_s,
                follow_redirects=True,
                headers={"Accept": "application/ld+json, application/json"},
            )
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise ContextError(
                f"@context {url} could not be fetched: {err}", unavailable=True
            ) from err

    def resolve(self, context: Any) -> ActiveContext:
        """Resolve a @context (None = core only) into an ActiveContext, cached by its JSON."""
        key = json.dumps(context, sort_keys=True)
        cached = self._resolved.get(key)
        if cached is not None:
            return cached
        defs: dict[str, Any] = {}
        self._merge(context, defs, depth=0)
        self._merge(CORE_CONTEXT_URL, defs, depth=0)  # the core context always comes last
        active = ActiveContext(context, _terms(defs), _vocab(defs))
        with self._lock:
            self._resolved[key] = active
        return active

    def _merge(self, context: Any, defs: dict[str, Any], depth: int) -> None:
        if depth > 8:
            raise ContextError("@context nests too deeply (a loop?)")
        if context is None:
            return
        if isinstance(context, str):
            self._merge(self.document(context), defs, depth + 1)
        elif isinstance(context, list):
            for item in context:
                self._merge(item, defs, depth + 1)
        elif isinstance(context, dict):
            for term, value in context.items():
                if term == "@vocab" or not term.startswith("@"):
                    defs[term] = value
        else:
            raise ContextError(
                f"@context entries must be URLs or objects, not {type(context).__name__}"
            )


def _vocab(defs: dict[str, Any]) -> str | None:
    vocab = defs.get("@vocab")
    return vocab if isinstance(vocab, str) else None


def _terms(defs: dict[str, Any]) -> dict[str, str]:
    """Turn raw term definitions into term -> absolute IRI (prefixes expanded)."""
    raw: dict[str, str] = {}
    for term, value in defs.items():
        if term == "@vocab":
            continue
        iri = value.get("@id") if isinstance(value, dict) else value
        if isinstance(iri, str) and not iri.startswith("@"):
            raw[term] = iri
    out: dict[str, str] = {}
    for term, iri in raw.items():
        for _ in range(3):  # prefixes may themselves be compact IRIs
            prefix, sep, suffix = iri.partition(":")
            if sep and not suffix.startswith("//") and prefix in raw:
                iri = raw[prefix] + suffix
            else:
                break
        out[term] = iri
    return out
