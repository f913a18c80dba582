"""Full-text search over the published minutes: decisions, recommendations (indstillinger),
amendment proposals (ændringsforslag) and protocol remarks (protokolbemærkninger).

What is searchable is kept as `SearchDocument` rows, one per decision, recommendation,
motion and accepted remark of every open item of every meeting whose minutes are
published (`meetings.visibility`). Closed items (lukkede punkter) and unpublished
meetings are never indexed, and the query checks both again.

The full-text index itself is engine-specific and created by the migration, not by the
models (see `MIGRATION_ONLY` in `protokol.models`):

- PostgreSQL: a generated `tsvector` column `search_documents.search_vector` over the
  `danish` text-search configuration (Snowball stemming, Danish stop words) with a GIN
  index; `ts_rank_cd` orders the hits and `ts_headline` cuts the snippets.
- SQLite: an FTS5 table `search_fts` (tokenizer `unicode61 remove_diacritics 0`, so æ, ø
  and å stay letters) holding the words stemmed in Python with the same Snowball Danish
  stemmer (`snowballstemmer`); `bm25` orders the hits and the snippets are cut in Python.
  A trigger removes a document's FTS row when the document is deleted.

On both engines a word matches its Danish stem ("ledige" finds "ledighed") or, from four
letters, any word it begins ("integration" finds "integrationspolitikken"). A quoted
phrase matches those stems in that order. Danish stop words are left out of queries.
User input is never passed to the engine's query syntax: it is reduced to words first.

Indexing happens in the transaction that publishes the minutes or adds a correction to
published minutes (`minutes.lifecycle`), when a published meeting is imported, and on
`flask --app wsgi search reindex`. Functions only add and flush; the caller commits.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import snowballstemmer
import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meetings.models import AgendaItem, Body, Meeting, Party
from meetings.services import SeatedMember, seated_members
from meetings.visibility import are_minutes_public, minutes_public_clause
from minutes.context import decision_context, motion_context, split_blocks
from minutes.models import Correction, ProtocolRemark, RemarkKind, RemarkStatus
from minutes.styles import Style, StyleError, load_style
from motions.models import Motion, MotionKind
from protokol.extensions import db
from protokol.models import dialect_name, enum_column, migration_only
from votes.models import PartyVote, Position, Vote

#: The engine-specific index the migration creates (see the module's docstring).
FTS_TABLE = "search_fts"
VECTOR_COLUMN = "search_vector"
VECTOR_INDEX = "ix_search_documents_search_vector"
migration_only(
    table=(FTS_TABLE, f"{FTS_TABLE}_*"),
    column=(f"search_documents.{VECTOR_COLUMN}",),
    index=(VECTOR_INDEX,),
)

#: Longest query accepted, in characters, and most words and phrases in one query.
MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
#: Words shorter than this match only their stem, never as a prefix.
PREFIX_MIN_LENGTH = 4
PER_PAGE = 20
MAX_PAGE = 500
#: At most this many matches are counted and ranked by relevance: the newest ones. A word
#: found in half of all documents then costs no more than a rarer one (docs/search.md).
RANK_LIMIT = 1000

#: Marks around a match in a snippet, from the engine's highlighter or ours; they are
#: removed from indexed text so that they can only come from the highlighter.
START, STOP = "\ue000", "\ue001"

#: Danish stop words: the Snowball list that PostgreSQL's `danish` configuration uses.
_STOP_WORDS = """og i jeg det at en den til er som på de med han af for ikke der var mig sig men et
    har om vi min havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad
    skal selv her alle vil blev kunne ind når være dog noget ville jo deres efter ned
    skulle denne end dette mit også under have dig anden hende mine alt meget sit sine vor
    mod disse hvis din nogle hos blive mange ad bliver hendes været thi jer sådan"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

#: Operators of the engines' own query languages, typed in capitals: not searched for.
OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})

_WORD = re.compile(r"[^\W_]+")
_PHRASE_OR_WORD = re.compile(r'"([^"]*)"|([^\s"]+)')


class SearchQueryError(ValueError):
    """The query cannot be searched; the message says why (shown to the user)."""


class DocumentKind(enum.StrEnum):
    """What a search document is."""

    #: The item's decision section: the motions' votes and results and the final result.
    DECISION = "decision"
    #: The recommendation (indstilling); the item's title is searched with it.
    RECOMMENDATION = "recommendation"
    #: An accepted protocol remark.
    REMARK = "remark"
    #: A motion's verbatim text: an amendment, addition or other proposal.
    AMENDMENT = "amendment"


class SearchDocument(db.Model):
    """A searchable piece of published minutes; derived data, rebuilt at will."""

    __tablename__ = "search_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(
        enum_column(DocumentKind, "document_kind"), nullable=False
    )
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True, nullable=False
    )
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True, nullable=False
    )
    body_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bodies.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: The meeting's year.
    year: Mapped[int] = mapped_column(index=True, nullable=False)
    #: Order within the item: recommendation, motions, decision, remarks.
    position: Mapped[int] = mapped_column(nullable=False)
    #: The item's title (indexed with the recommendation only).
    title: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    #: What the hit is, as the minutes say it: "Protokolbemærkning fra O".
    label: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    #: The searchable text, as the minutes print it.
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)

    parties: Mapped[list[Party]] = relationship(secondary="search_document_parties")

    def __repr__(self) -> str:
        return f"<SearchDocument {self.id} {self.kind} item {self.item_id}>"


class SearchDocumentParty(db.Model):
    """A party a search document concerns: a remark's parties, an amendment's proposer,
    the parties that voted for or against in the item's votes (the decision)."""

    __tablename__ = "search_document_parties"

    document_id: Mapped[int] = mapped_column(
        sa.ForeignKey("search_documents.id", ondelete="CASCADE"), primary_key=True
    )
    party_id: Mapped[int] = mapped_column(
        sa.ForeignKey("parties.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# --------------------------------------------------------------------------- words


@functools.lru_cache(maxsize=1)
def _stemmer():
    return snowballstemmer.stemmer("danish")


@functools.lru_cache(maxsize=20_000)
def stem(word: str) -> str:
    """The Danish Snowball stem of a lower-case word ("ledighed" → "led")."""
    return _stemmer().stemWord(word)


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased: letters and digits; æ, ø, å are letters."""
    return [w.lower() for w in _WORD.findall(text)]


def clean(text: str) -> str:
    """Text without control characters or the highlight marks (newlines and tabs stay)."""
    return "".join(
        c
        for c in text
        if c in "\n\t" or (unicodedata.category(c)[0] != "C" and c not in (START, STOP))
    )


def stemmed(text: str) -> str:
    """`text` as the SQLite index holds it: its words' stems, in order."""
    return " ".join(stem(w) for w in words(text))


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Term:
    """A word, or a quoted phrase, that a document must contain."""

    words: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1

    @property
    def prefix(self) -> str | None:
        """The word as a prefix, for a single word long enough."""
        if self.is_phrase or len(self.words[0]) < PREFIX_MIN_LENGTH:
            return None
        return self.words[0]


def parse_query(query: str) -> list[Term]:
    """The words and quoted phrases of a user's query. Everything but letters and digits
    is a separator (so no operator of either engine survives); stop words, and AND, OR,
    NOT and NEAR in capitals, are dropped."""
    query = clean(query).strip()
    if len(query) > MAX_QUERY_LENGTH:
        raise SearchQueryError(f"Søgningen er for lang (højst {MAX_QUERY_LENGTH} tegn).")
    terms: list[Term] = []
    for phrase, chunk in _PHRASE_OR_WORD.findall(query):
        if phrase:
            found = words(phrase)
            # A phrase keeps its stop words between the first and last ordinary word.
            while found and found[0] in STOP_WORDS:
                found.pop(0)
            while found and found[-1] in STOP_WORDS:
                found.pop()
            if found:
                terms.append(Term(tuple(found)))
        else:
            terms.extend(
                Term((w.lower(),))
                for w in _WORD.findall(chunk)
                if w not in OPERATORS and w.lower() not in STOP_WORDS
            )
    unique = list(dict.fromkeys(terms))
    if len(unique) > MAX_TERMS:
        raise SearchQueryError(f"Søg efter højst {MAX_TERMS} ord ad gangen.")
    return unique


def fts5_query(terms: Sequence[Term]) -> str:
    """The FTS5 MATCH expression for `terms` on the stemmed index: every term must match;
    a word as its stem or (long enough) as a prefix, a phrase as its stems in order."""
    parts = []
    for term in terms:
        if term.is_phrase:
            parts.append('"' + " ".join(stem(w) for w in term.words) + '"')
        elif term.prefix:
            parts.append(f'("{stem(term.words[0])}" OR "{term.prefix}"*)')
        else:
            parts.append(f'"{stem(term.words[0])}"')
    return " AND ".join(parts)


def tsquery(terms: Sequence[Term]) -> sa.ColumnElement:
    """The PostgreSQL tsquery for `terms`, built from bound parameters: the `danish`
    configuration stems a word, the `simple` one keeps it as typed for the prefix."""
    danish = sa.literal_column("'danish'::regconfig")
    simple = sa.literal_column("'simple'::regconfig")
    result: sa.ColumnElement | None = None
    for term in terms:
        if term.is_phrase:
            part = sa.func.phraseto_tsquery(danish, " ".join(term.words))
        else:
            part = sa.func.plainto_tsquery(danish, term.words[0])
            if term.prefix:
                quoted = "'" + term.prefix.replace("'", "''") + "':*"
                part = part.op("||")(sa.func.to_tsquery(simple, quoted))
        result = part if result is None else result.op("&&")(part)
    assert result is not None
    return result


def highlight(text: str, terms: Sequence[Term]) -> str:
    """`text` with START/STOP around each word that matches a term (its stem, or the
    term as a prefix): our highlighter for titles, and for snippets on SQLite."""
    stems = {stem(w) for t in terms for w in t.words}
    prefixes = tuple(t.prefix for t in terms if t.prefix)

    def mark(match: re.Match) -> str:
        word = match.group(0).lower()
        if stem(word) in stems or (prefixes and word.startswith(prefixes)):
            return f"{START}{match.group(0)}{STOP}"
        return match.group(0)

    return _WORD.sub(mark, text)


def snippet(text: str, terms: Sequence[Term], *, width: int = 32) -> str:
    """About `width` words of `text` around its first match, highlighted, with "…" where
    it is cut: the Python counterpart of PostgreSQL's `ts_headline`."""
    marked = highlight(" ".join(text.split()), terms)
    tokens = marked.split(" ")
    first = next((i for i, t in enumerate(tokens) if START in t), 0)
    start = max(0, min(first - width // 4, len(tokens) - width))
    end = min(len(tokens), start + width)
    cut = " ".join(tokens[start:end])
    return ("… " if start else "") + cut + (" …" if end < len(tokens) else "")


def _with_ellipses(headline: str, text: str) -> str:
    """A `ts_headline` fragment on one line, with "…" where it does not reach the start
    or the end of the text."""
    cut = " ".join(headline.split())
    plain = cut.replace(START, "").replace(STOP, "")
    whole = " ".join(text.split())
    return (
        ("" if whole.startswith(plain[:40]) else "… ")
        + cut
        + ("" if whole.endswith(plain[-40:]) else " …")
    )


def as_markup(marked: str) -> Markup:
    """Highlighted text as HTML: everything escaped, the marks turned into <mark>."""
    return Markup(
        str(escape(marked)).replace(START, "<mark>").replace(STOP, "</mark>")
    )  # the text is escaped: only our own tags are added


# --------------------------------------------------------------------------- indexing


def _party_of(seated: SeatedMember | None) -> list[Party]:
    return [seated.party] if seated is not None and seated.party is not None else []


def _decision_text(item: AgendaItem, style: Style) -> str:
    """The decision section without the motions' verbatim texts and the remarks (they
    are documents of their own): who moved what, the votes, the result sentences."""
    context = decision_context(item, style)
    for motion in context["motions"]:
        motion["text"] = ""
    context["remarks"] = []
    if not (context["motions"] or context["decision"]["result"]):
        return ""
    heading = " ".join(style.render("heading.txt.j2", context).split())
    return "\n\n".join([heading, *split_blocks(style.render("decision.txt.j2", context))])


def _style(meeting: Meeting, style_dirs: Sequence[str]) -> Style | None:
    try:
        return load_style(meeting.body.minutes_style, tuple(style_dirs))
    except StyleError:
        return None


@dataclass
class _Doc:
    kind: DocumentKind
    label: str
    text: str
    parties: list[Party] = field(default_factory=list)


def item_documents(
    item: AgendaItem, style: Style | None, seated: dict[int, SeatedMember]
) -> list[_Doc]:
    """What is searchable of an open item of published minutes."""
    docs: list[_Doc] = []
    recommendation = []
    previous = None
    for clause in item.clauses:
        if clause.lead_in and clause.lead_in != previous:
            recommendation.append(clause.lead_in)
        previous = clause.lead_in
        recommendation.append(f"{clause.number}. {clause.text}")
    motions: list[Motion] = item.motions
    recommendation += [
        m.text for m in motions if m.kind == MotionKind.RECOMMENDATION and m.text.strip()
    ]
    docs.append(
        _Doc(
            DocumentKind.RECOMMENDATION,
            "Indstilling" if recommendation else "Dagsordenspunkt",
            "\n\n".join(recommendation),
        )
    )
    for motion in motions:
        if motion.kind == MotionKind.RECOMMENDATION or not motion.text.strip():
            continue
        if style is not None:
            ctx = motion_context(motion, seated, style)
            label = f"{ctx['kind_label'].capitalize()} fra {ctx['proposer']['label']}"
        else:
            label = "Forslag"
        if motion.proposer_party is not None:
            parties = [motion.proposer_party]
        elif motion.proposer_member is not None:
            parties = _party_of(seated.get(motion.proposer_member.id))
        else:
            parties = []
        docs.append(_Doc(DocumentKind.AMENDMENT, label, motion.text, parties))

    decision = _decision_text(item, style) if style is not None else ""
    if style is None and getattr(item, "decision", None) is not None:
        decision = item.decision.result_text
    corrections = db.session.scalars(
        sa.select(Correction).where(Correction.item_id == item.id).order_by(Correction.id)
    ).all()
    decision = "\n\n".join(
        [decision, *(f"Rettelse: {c.what}\n\nBegrundelse: {c.why}" for c in corrections)]
    ).strip()
    if decision:
        voters = db.session.scalars(
            sa.select(Party)
            .join(PartyVote, PartyVote.party_id == Party.id)
            .join(Vote, Vote.id == PartyVote.vote_id)
            .join(Motion, Motion.id == Vote.motion_id)
            .where(
                Motion.item_id == item.id,
                Vote.is_open.is_(False),
                PartyVote.position.in_([Position.FOR, Position.AGAINST]),
            )
            .distinct()
        ).all()
        docs.append(_Doc(DocumentKind.DECISION, "Beslutning", decision, list(voters)))

    remarks: list[ProtocolRemark] = item.remarks
    for remark in remarks:
        if remark.status != RemarkStatus.ACCEPTED:
            continue
        parties = [remark.party] if remark.party is not None else []
        if remark.kind == RemarkKind.JOINT:
            parties += [cp.party for cp in remark.co_parties if cp.is_confirmed]
        if remark.kind == RemarkKind.PERSONAL and remark.member is not None:
            who = seated.get(remark.member.id)
            parties = _party_of(who)
            author = remark.member.name + (f" ({who.party.letter})" if who and who.party else "")
        else:
            author = ", ".join(p.letter for p in parties)
        joint = "Fælles protokolbemærkning" if remark.kind == RemarkKind.JOINT else ""
        label = f"{joint or 'Protokolbemærkning'} fra {author}"
        docs.append(_Doc(DocumentKind.REMARK, label, remark.text, parties))
    return docs


def unindex_meeting(meeting_id: int) -> None:
    """Remove a meeting's documents (on SQLite a trigger removes their FTS rows)."""
    db.session.execute(sa.delete(SearchDocument).where(SearchDocument.meeting_id == meeting_id))


def index_meeting(meeting: Meeting, *, style_dirs: Sequence[str] = ()) -> int:
    """(Re)build a meeting's search documents; only published minutes, only open items.
    Returns how many documents it has now."""
    db.session.flush()
    unindex_meeting(meeting.id)
    if not are_minutes_public(meeting):
        return 0
    style = _style(meeting, style_dirs)
    seated = seated_members(meeting.body, meeting.date)
    rows: list[SearchDocument] = []
    for item in meeting.items:
        if item.is_closed:
            continue
        for position, doc in enumerate(item_documents(item, style, seated)):
            row = SearchDocument(
                kind=doc.kind,
                meeting_id=meeting.id,
                item_id=item.id,
                body_id=meeting.body_id,
                year=meeting.starts_at.year,
                position=position,
                title=clean(item.title)[:500],
                label=clean(doc.label)[:300],
                text=clean(doc.text),
                parties=list({p.id: p for p in doc.parties}.values()),
            )
            rows.append(row)
    db.session.add_all(rows)
    db.session.flush()
    if rows and dialect_name() == "sqlite":
        db.session.execute(
            sa.text(f"INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (:id, :title, :body)"),
            [
                {
                    "id": r.id,
                    "title": stemmed(r.title) if r.kind == DocumentKind.RECOMMENDATION else "",
                    "body": stemmed(r.text),
                }
                for r in rows
            ],
        )
    return len(rows)


def reindex_all(*, style_dirs: Sequence[str] = ()) -> tuple[int, int]:
    """Rebuild the whole index from the published minutes; (meetings, documents)."""
    db.session.execute(sa.delete(SearchDocument))
    if dialect_name() == "sqlite":
        db.session.execute(sa.text(f"DELETE FROM {FTS_TABLE}"))
    # In the order of the meetings' dates, so that the documents' ids follow them as
    # they do when minutes are published one meeting at a time (see `search`).
    ids = db.session.scalars(
        sa.select(Meeting.id).where(minutes_public_clause()).order_by(Meeting.starts_at, Meeting.id)
    ).all()
    documents = 0
    for meeting_id in ids:
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting is not None
        documents += index_meeting(meeting, style_dirs=style_dirs)
    return len(ids), documents


# --------------------------------------------------------------------------- searching


@dataclass
class SearchHit:
    document: SearchDocument
    meeting: Meeting
    item: AgendaItem
    body: Body
    #: The item's title, highlighted.
    title: Markup
    #: A piece of the text around the matches, highlighted.
    snippet: Markup


@dataclass
class SearchResults:
    terms: list[Term]
    total: int
    page: int
    per_page: int
    hits: list[SearchHit]
    #: More documents match than `RANK_LIMIT`: `total` is that limit, and the hits are
    #: the newest `RANK_LIMIT` matches, best first.
    is_capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _filters(
    body_id: int | None, year: int | None, party_id: int | None
) -> list[sa.ColumnElement[bool]]:
    """Conditions on `SearchDocument` for the chosen filters."""
    where: list[sa.ColumnElement[bool]] = []
    if body_id is not None:
        where.append(SearchDocument.body_id == body_id)
    if year is not None:
        where.append(SearchDocument.year == year)
    if party_id is not None:
        where.append(
            SearchDocument.id.in_(
                sa.select(SearchDocumentParty.document_id).where(
                    SearchDocumentParty.party_id == party_id
                )
            )
        )
    return where


#: The FTS5 table, for the queries on SQLite.
_FTS = sa.table(FTS_TABLE, sa.column("rowid"), sa.column("rank"))


def _matching(terms: Sequence[Term], where: list, *, limit: int) -> sa.Select:
    """The ids of the newest `limit` documents that match (the highest ids: documents are
    numbered as minutes are published, and `reindex_all` numbers them by meeting date), as
    the full-text index finds them. Reading stops at `limit`, so a word found in most
    documents costs no more than a rare one."""
    if dialect_name() == "postgresql":
        vector = sa.literal_column(f"search_documents.{VECTOR_COLUMN}")
        return (
            sa.select(SearchDocument.id)
            .where(vector.op("@@")(tsquery(terms)), *where)
            .order_by(SearchDocument.id.desc())
            .limit(limit)
        )
    # The FTS5 table drives the query, newest first, and stops at `limit`; a filter is a
    # set of ids checked per match (`+ 0`: not handed to FTS5 as a rowid constraint,
    # which would look each id up in the full-text index instead).
    fts = _FTS
    match = sa.literal_column(FTS_TABLE).op("MATCH")(fts5_query(terms))
    conditions = [match]
    if where:
        conditions.append((fts.c.rowid + 0).in_(sa.select(SearchDocument.id).where(*where)))
    return (
        sa.select(fts.c.rowid.label("id"))
        .where(*conditions)
        .order_by(fts.c.rowid.desc())
        .limit(limit)
    )


def _ranked(terms: Sequence[Term], where: list) -> sa.Subquery:
    """The newest `RANK_LIMIT` matches with their relevance (lower is better on SQLite:
    bm25; higher on PostgreSQL: ts_rank_cd)."""
    if dialect_name() == "postgresql":
        newest = _matching(terms, where, limit=RANK_LIMIT).subquery()
        vector = sa.literal_column(f"search_documents.{VECTOR_COLUMN}")
        return (
            sa.select(SearchDocument.id, sa.func.ts_rank_cd(vector, tsquery(terms)).label("rank"))
            .join(newest, newest.c.id == SearchDocument.id)
            .subquery()
        )
    return _matching(terms, where, limit=RANK_LIMIT).add_columns(_FTS.c.rank).subquery()


def search(
    query: str,
    *,
    body_id: int | None = None,
    year: int | None = None,
    party_id: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchResults:
    """The published documents matching `query` (all its words and phrases), best first:
    one query to count them and one for the page of hits with their items, meetings and
    bodies. The count is the index's; the page checks what the public may see again
    (documents exist only for published minutes and open items in the first place)."""
    terms = parse_query(query)
    if not 1 <= page <= MAX_PAGE:
        raise SearchQueryError(f"Siden skal være et tal fra 1 til {MAX_PAGE}.")
    if not terms:
        return SearchResults(terms, 0, page, per_page, [])
    where = _filters(body_id, year, party_id)
    is_postgres = dialect_name() == "postgresql"
    counted = _matching(terms, where, limit=RANK_LIMIT + 1).subquery()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(counted)) or 0
    ranked = _ranked(terms, where)
    best = ranked.c.rank.desc() if is_postgres else ranked.c.rank.asc()
    # Equal relevance: the newer document (documents are indexed as minutes are published).
    page_ids = (
        sa.select(ranked)
        .order_by(best, ranked.c.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
        .subquery()
    )
    if is_postgres:
        options = (
            f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=15,"
            ' MaxFragments=2, FragmentDelimiter=" … "'
        )
        text_column = sa.func.ts_headline(
            sa.literal_column("'danish'::regconfig"), SearchDocument.text, tsquery(terms), options
        )
    else:
        text_column = SearchDocument.text
    rows = db.session.execute(
        sa.select(SearchDocument, AgendaItem, Meeting, Body, text_column)
        .join(page_ids, page_ids.c.id == SearchDocument.id)
        .join(AgendaItem, AgendaItem.id == SearchDocument.item_id)
        .join(Meeting, Meeting.id == SearchDocument.meeting_id)
        .join(Body, Body.id == SearchDocument.body_id)
        .where(minutes_public_clause(), AgendaItem.is_closed.is_(False))
        .order_by(page_ids.c.rank.desc() if is_postgres else page_ids.c.rank.asc())
        .order_by(SearchDocument.id.desc())
    ).all()
    hits = []
    for document, item, meeting, body, text in rows:
        cut = _with_ellipses(text, document.text) if is_postgres else snippet(text, terms)
        hits.append(
            SearchHit(
                document,
                meeting,
                item,
                body,
                as_markup(highlight(document.title, terms)),
                as_markup(cut),
            )
        )
    return SearchResults(
        terms, min(total, RANK_LIMIT), page, per_page, hits, is_capped=total > RANK_LIMIT
    )


def years() -> list[int]:
    """The years that have published, searchable minutes, newest first."""
    return list(
        db.session.scalars(
            sa.select(SearchDocument.year).distinct().order_by(SearchDocument.year.desc())
        )
    )
