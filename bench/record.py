"""A generated record the size of ten years of a large municipality, as interchange
documents (`minutes/schema/meeting.schema.json`): deterministic for a seed.

Twenty-five bodies, 2015–2024, about eleven meetings a body a year, about fifteen items
a meeting. Every meeting's content comes from its own random stream, seeded by the seed,
the body and the meeting's date, so a smaller scale is an even sample of the same record
(scale 0.05 holds the same meetings, with the same content, as scale 1.0 holds there).

The case text is put together from the sentences of the seed item
(`tests/data/reference/item-14-case.md`, its names replaced by slots) and from a phrase
list in the same register, so that it reads like case text: Danish, with æ, ø and å,
paragraphs, lists and the occasional table.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED_ITEM = ROOT / "tests" / "data" / "reference" / "item-14-case.md"

FIRST_YEAR, LAST_YEAR = 2015, 2024
#: Election terms (a municipal election every four years; the new council starts 1 January).
TERMS = ((date(2014, 1, 1), date(2017, 12, 31)), (date(2018, 1, 1), date(2021, 12, 31)))
TERMS += ((date(2022, 1, 1), date(2025, 12, 31)),)
MEETING_MONTHS = (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12)  # no meetings in July

PARTIES = (
    ("A", "Socialdemokratiet"),
    ("B", "Radikale Venstre"),
    ("C", "Det Konservative Folkeparti"),
    ("F", "SF – Socialistisk Folkeparti"),
    ("I", "Liberal Alliance"),
    ("O", "Dansk Folkeparti"),
    ("V", "Venstre"),
    ("Ø", "Enhedslisten"),
    ("Å", "Alternativet"),
)
PARTY_NAMES = dict(PARTIES)
#: Left (-) to right (+): how parties tend to vote together.
LEAN = {"Ø": -3, "Å": -2, "F": -2, "A": -1, "B": 0, "C": 2, "V": 2, "I": 3, "O": 3}
#: Share of the seats per term (roughly a large Danish city council).
SHARES = (
    {"A": 26, "Ø": 19, "V": 9, "B": 9, "F": 8, "O": 9, "C": 4, "Å": 9, "I": 7},
    {"A": 25, "Ø": 18, "V": 7, "B": 13, "F": 11, "O": 5, "C": 6, "Å": 7, "I": 8},
    {"A": 18, "Ø": 24, "V": 7, "B": 9, "F": 14, "O": 2, "C": 13, "Å": 7, "I": 6},
)
#: The two sides' usual order in the bodies' listings (the body's own order, not the alphabet).
LEFT_ORDER = ("A", "B", "F", "Ø", "Å")
RIGHT_ORDER = ("V", "O", "C", "I")

#: (name, administration, seats, domain). The genitive adds an s ("Økonomiudvalgets").
BODIES = (
    ("Borgerrepræsentationen", "Økonomiforvaltningen", 31, "økonomi"),
    ("Økonomiudvalget", "Økonomiforvaltningen", 13, "økonomi"),
    ("Børne- og Ungdomsudvalget", "Børne- og Ungdomsforvaltningen", 11, "børn"),
    ("Kultur- og Fritidsudvalget", "Kultur- og Fritidsforvaltningen", 11, "kultur"),
    ("Sundheds- og Omsorgsudvalget", "Sundheds- og Omsorgsforvaltningen", 11, "sundhed"),
    ("Socialudvalget", "Socialforvaltningen", 11, "social"),
    ("Teknik- og Miljøudvalget", "Teknik- og Miljøforvaltningen", 11, "teknik"),
    (
        "Beskæftigelses- og Integrationsudvalget",
        "Beskæftigelses- og Integrationsforvaltningen",
        9,
        "beskæftigelse",
    ),
    ("Børne- og Skoleudvalget", "Børne- og Ungdomsforvaltningen", 9, "børn"),
    ("Ældreudvalget", "Sundheds- og Omsorgsforvaltningen", 9, "sundhed"),
    ("Klima- og Miljøudvalget", "Teknik- og Miljøforvaltningen", 9, "teknik"),
    ("Plan- og Boligudvalget", "Teknik- og Miljøforvaltningen", 9, "teknik"),
    ("Erhvervs- og Vækstudvalget", "Økonomiforvaltningen", 9, "økonomi"),
    ("Trafik- og Mobilitetsudvalget", "Teknik- og Miljøforvaltningen", 9, "teknik"),
    ("Sundhedsudvalget", "Sundheds- og Omsorgsforvaltningen", 7, "sundhed"),
    ("Handicap- og Psykiatriudvalget", "Socialforvaltningen", 7, "social"),
    ("Folkeoplysningsudvalget", "Kultur- og Fritidsforvaltningen", 7, "kultur"),
    ("Idrætsudvalget", "Kultur- og Fritidsforvaltningen", 7, "kultur"),
    ("Integrationsudvalget", "Beskæftigelses- og Integrationsforvaltningen", 7, "beskæftigelse"),
    ("Uddannelsesudvalget", "Børne- og Ungdomsforvaltningen", 7, "børn"),
    ("Byudviklingsudvalget", "Teknik- og Miljøforvaltningen", 7, "teknik"),
    ("Ejendomsudvalget", "Økonomiforvaltningen", 7, "økonomi"),
    ("Digitaliseringsudvalget", "Økonomiforvaltningen", 7, "økonomi"),
    ("Beredskabskommissionen", "Teknik- og Miljøforvaltningen", 7, "teknik"),
    ("Udsatteudvalget", "Socialforvaltningen", 7, "social"),
)

DISTRICTS = (
    "Valby", "Nørrebro", "Vesterbro", "Amager Øst", "Amager Vest", "Brønshøj-Husum",
    "Østerbro", "Bispebjerg", "Sydhavnen", "Ørestad", "Vanløse", "Islands Brygge",
    "Christianshavn", "Nordvest", "Kongens Enghave", "Tingbjerg", "Sundbyøster", "Indre By",
)  # fmt: skip
TOPICS = {
    "økonomi": (
        "budgetopfølgningen",
        "kommunens indkøbspolitik",
        "den økonomiske politik",
        "anlægsprogrammet",
        "erhvervsstrategien",
        "kommunens ejendomsstrategi",
        "den digitale strategi",
        "udbudsstrategien",
        "kommunens klimaplan",
        "byggeriet af nye almene boliger",
        "salget af byggegrunde i {bydel}",
    ),
    "børn": (
        "den nye skolestruktur i {bydel}",
        "inklusionen i folkeskolen",
        "sprogstimuleringen i daginstitutionerne",
        "udbygningen af daginstitutioner i {bydel}",
        "ungdomsuddannelsesindsatsen",
        "fritidshjem og klubber i {bydel}",
        "skolernes læringsmiljø",
        "madordningen i daginstitutionerne",
    ),
    "kultur": (
        "biblioteksplanen",
        "renoveringen af svømmehallen i {bydel}",
        "kulturhuset i {bydel}",
        "idrætsstrategien",
        "tilskuddet til foreningslivet",
        "musikskolernes tilbud",
        "den kunstneriske udsmykning af {bydel}",
        "fritidstilbuddene til unge",
    ),
    "sundhed": (
        "ældreplejens kvalitetsstandard",
        "hjemmeplejen i {bydel}",
        "sundhedspolitikken",
        "plejeboligplanen",
        "forebyggelsen af ensomhed blandt ældre",
        "rehabiliteringsindsatsen",
        "tandplejen for børn og unge",
        "demensindsatsen",
    ),
    "social": (
        "hjemløsestrategien",
        "socialpsykiatrien",
        "botilbuddene for borgere med handicap",
        "indsatsen mod misbrug",
        "væresteder i {bydel}",
        "den sociale boligpolitik",
        "støtten til udsatte familier",
        "handicappolitikken",
    ),
    "teknik": (
        "klimatilpasningen af {bydel}",
        "cykelstierne i {bydel}",
        "lokalplanen for {bydel}",
        "affaldsplanen",
        "trafiksikkerhedsplanen",
        "byfornyelsen i {bydel}",
        "parkeringsstrategien",
        "træplantningen i {bydel}",
        "beredskabsplanen",
    ),
    "beskæftigelse": (
        "integrationspolitikken",
        "beskæftigelsesplanen",
        "indsatsen for ledige unge",
        "danskuddannelsen",
        "virksomhedssamarbejdet",
        "jobcentrenes organisering",
        "integrationen af flygtninge",
        "indsatsen mod diskrimination",
    ),
}
TITLE_TEMPLATES = (
    "Endeligt udkast til {Emne} {periode}",
    "Høring om {emne}",
    "Status på {emne}",
    "Evaluering af {emne}",
    "Bevilling til {emne}",
    "Forslag til {emne}",
    "Opfølgning på {emne}",
    "Anlægsbevilling til {emne}",
    "Principper for {emne}",
)
ORIENTATION_TITLES = ("Orientering om {emne}", "Kvartalsrapport om {emne}")
CLOSED_TITLES = (
    "Køb af ejendom i {bydel}", "Udbud af {emne}", "Klagesag vedrørende {emne}",
    "Personalesag", "Erstatningssag", "Salg af grund i {bydel}",
)  # fmt: skip
STAKEHOLDERS = (
    "de øvrige udvalg", "de lokale udvalg", "Handicaprådet", "Ældrerådet",
    "borgerne i {bydel}", "nøgleinteressenter", "Integrationsrådet", "Børne- og Ungerådet",
    "foreningerne", "erhvervslivet",
)  # fmt: skip

OWN_SENTENCES = (
    "{Udvalg} besluttede den {dato} at sende {emne} i høring hos {interessent}.",
    "{Forvaltning} har på den baggrund udarbejdet et forslag, som forelægges udvalget.",
    "Forslaget bygger på erfaringerne fra {bydel}, hvor der siden {år} er arbejdet med en"
    " tilsvarende model.",
    "Der er modtaget {antal} høringssvar, som generelt er positive over for forslaget.",
    "I høringssvarene lægges der særlig vægt på, at indsatsen skal være tilgængelig for alle"
    " borgere.",
    "Forvaltningen vurderer, at forslaget kan gennemføres inden for den eksisterende ramme.",
    "Det foreslås, at indsatsen evalueres efter to år, og at udvalget orienteres om resultaterne.",
    "Sagen har været drøftet med {interessent}, der bakker op om hovedlinjerne.",
    "Med forslaget styrkes sammenhængen mellem de kommunale tilbud og borgernes behov.",
    "Erfaringerne viser, at en tidlig og målrettet indsats giver de bedste resultater.",
    "Forvaltningen anbefaler derfor, at {emne} gennemføres i {antal} faser.",
    "Første fase omfatter {bydel}, hvor behovet er størst.",
    "Udgifterne afholdes inden for udvalgets budgetramme i {år}.",
    "Der søges om en anlægsbevilling på {beløb} mio. kr. til projektets gennemførelse.",
    "Den samlede udgift udgør {beløb} mio. kr. fordelt over årene {periode}.",
    "Der er ingen økonomiske konsekvenser forbundet med indstillingen.",
    "Merudgiften finansieres ved omprioritering inden for udvalgets område.",
    "Efter udvalgets godkendelse sendes sagen videre til Økonomiudvalget og"
    " Borgerrepræsentationen.",
    "Forvaltningen vil løbende orientere udvalget om fremdriften.",
    "Arbejdet gennemføres i tæt samarbejde med de berørte forvaltninger og med"
    " inddragelse af borgerne.",
    "Det er forvaltningens vurdering, at der er behov for en mere fleksibel organisering.",
    "Målet er, at flere borgere oplever en mærkbar forbedring af kvaliteten.",
    "Der har i perioden været en stigning i efterspørgslen på {antal} procent.",
    "Kapaciteten i {bydel} er i dag fuldt udnyttet, og ventelisten er vokset.",
    "Forslaget tager højde for de bemærkninger, som udvalget fremsatte på mødet den {dato}.",
    "Det bemærkes, at lovgivningen på området er ændret pr. 1. januar {år}.",
    "Forvaltningen har undersøgt tre alternative modeller, som er beskrevet i bilag 2.",
    "Den valgte model er den økonomisk mest fordelagtige og giver samtidig den største"
    " fleksibilitet.",
)
BULLETS = (
    "En vision for {emne}",
    "Mål og ansvarsfordeling",
    "En tidsplan for gennemførelsen i {bydel}",
    "Opfølgning og evaluering, herunder nøgletal for indsatsen",
    "Et skøn over ressourceforbruget i perioden {periode}",
    "Inddragelse af {interessent}",
    "Bedre koordinering mellem forvaltningerne",
    "Styrket dialog med borgerne i {bydel}",
    "Mål: Flere borgere skal have gavn af kommunens tilbud",
    "Mål: Færre skal opleve ventetid",
)
ACTIVITIES = (
    "{Udvalg} behandler sagen",
    "Økonomiudvalget behandler sagen",
    "Borgerrepræsentationen behandler sagen",
    "Høringsperioden udløber",
    "Udbudsmaterialet offentliggøres",
    "Projektet igangsættes i {bydel}",
    "Første evaluering forelægges udvalget",
)
CLAUSES = (
    "at {emne} godkendes",
    "at {emne} sendes i høring hos {interessent}",
    "at der gives en anlægsbevilling på {beløb} mio. kr. til {emne}",
    "at forvaltningen anmodes om at udarbejde en plan for {emne} i {bydel}",
    "at udvalget godkender tidsplanen for det videre arbejde",
    "at merudgiften på {beløb} mio. kr. finansieres inden for udvalgets ramme",
    "at Borgerrepræsentationen anmoder de stående udvalg om at indarbejde {emne} i deres"
    " handleplaner",
)
AMENDMENTS = (
    "At {emne} udvides til også at omfatte {bydel}.",
    'Indsættes som nyt at-punkt: "at forvaltningen inden udgangen af {år} forelægger en'
    ' evaluering af {emne} for udvalget".',
    "At sagen sendes tilbage til forvaltningen med henblik på at undersøge en billigere model.",
    "At beløbet hæves med {beløb} mio. kr., finansieret af udvalgets pulje til uforudsete"
    " udgifter.",
    "At høringsfristen forlænges, så {interessent} får bedre tid til at afgive høringssvar.",
    "Tredje at-punkt udgår.",
    'I andet at-punkt ændres "godkendes" til "godkendes som forsøg i to år".',
    "At der tilføjes et mål om, at borgerne i {bydel} inddrages, før der træffes endelig"
    " beslutning.",
)
REMARKS = (
    "{Parti} kan ikke støtte {emne}. Forslaget er for dyrt, og virkningen vil være minimal.",
    "{Parti} støtter indstillingen, men finder, at {emne} burde omfatte hele kommunen og ikke"
    " kun {bydel}.",
    "{Parti} stemte imod som en konsekvens af, at partiets ændringsforslag blev stemt ned."
    " {Parti} vil frem til behandlingen i Borgerrepræsentationen arbejde for at ændre"
    " forslaget.",
    "{Parti} finder, at borgerne i {bydel} ikke er blevet hørt tilstrækkeligt.",
    "{Parti} ønsker ført til protokol, at sagen bør genoptages, når evalueringen foreligger.",
)
PERSONAL_REMARKS = (
    "Jeg ønsker ført til protokol, at jeg har undladt at stemme.",
    "Jeg finder, at sagen burde have været behandlet på et lukket møde.",
    "Jeg ønsker ført til protokol, at bilagene først blev udsendt dagen før mødet.",
)
ATTACHMENT_TITLES = (
    "Udkast til {emne}", "Høringssvar", "Økonomioversigt", "Tidsplan",
    "Kort over {bydel}", "Notat om {emne}", "Evalueringsrapport", "Bilag til indstillingen",
)  # fmt: skip

FIRST_NAMES = (
    "Anders", "Anne", "Birgitte", "Bo", "Camilla", "Carsten", "Dorthe", "Emil", "Eva",
    "Frederik", "Gitte", "Hans", "Helle", "Ida", "Jakob", "Jens", "Jette", "Jørgen",
    "Karen", "Kasper", "Kirsten", "Lars", "Lene", "Mads", "Malene", "Marianne", "Mette",
    "Mikkel", "Morten", "Niels", "Pernille", "Peter", "Rasmus", "Rikke", "Signe", "Søren",
    "Thomas", "Tine", "Ulla", "Åse", "Øjvind", "Zenia", "Yasmin", "Ahmad", "Fatima",
)  # fmt: skip
MIDDLE_NAMES = ("", "", "", "Marie", "Holm", "Bjørn", "Skov", "Dahl", "Krogh", "Lund", "Bæk")
LAST_NAMES = (
    "Andersen", "Bech", "Christensen", "Dam", "Eriksen", "Frederiksen", "Hansen", "Holm",
    "Jensen", "Jørgensen", "Kristensen", "Larsen", "Lønborg", "Madsen", "Mortensen",
    "Nielsen", "Olsen", "Pedersen", "Poulsen", "Rasmussen", "Schmidt", "Sørensen",
    "Thomsen", "Vestergaard", "Østergaard", "Ågesen", "Bondam", "Kjær", "Nørgaard",
    "Sommer", "Mølgaard", "Bruun", "Hussein", "Khan", "Yilmaz",
)  # fmt: skip


# --------------------------------------------------------------------------- text


def _rng(seed: int, *parts: Any) -> random.Random:
    """An independent random stream for one part of the record."""
    key = ":".join(str(p) for p in (seed, *parts)).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


@cache
def seed_sentences() -> tuple[str, ...]:
    """The seed item's sentences, its names replaced by slots (`{udvalg}`, `{emne}`...)."""
    text = SEED_ITEM.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    replacements = (
        ("Beskæftigelses- og Integrationsudvalget", "{Udvalg}"),
        ("Beskæftigelses- og Integrationsforvaltningen", "{Forvaltning}"),
        (r"udkast til Københavns Integrationspolitik 2011-2014", "udkast til {emne}"),
        (r"Københavns Integrationspolitik 2011-2014", "{Emne}"),
        (r"(ny|nye|den nye) integrationspolitik", "{emne}"),
        (r"integrationspolitikken", "{emne}"),
        (r"integrationsindsatsen", "indsatsen"),
        (r"integrationsredegørelse", "redegørelse"),
        (r"integrationsudfordringerne", "udfordringerne"),
        (r"\b2012\b", "{næste_år}"),
        (r"2011-2014", "{periode}"),
        (r"17\. august 2010", "{dato}"),
        (r"\b2010\b", "{år}"),
        (r"\b2009\b", "{forrige_år}"),
        (r"\b38\b", "{antal}"),
    )
    sentences = []
    for paragraph in text.split("\n\n"):
        paragraph = paragraph.strip()
        if not paragraph or paragraph[0] in "#-|0123456789" or "\n" in paragraph:
            continue
        for pattern, slot in replacements:
            paragraph = re.sub(pattern, slot, paragraph)
        for sentence in re.split(r"(?<=[.:])\s+(?=[A-ZÆØÅ])", paragraph):
            sentence = sentence.strip()
            lowered = sentence.lower()
            if (
                len(sentence) > 40
                and sentence.endswith(".")
                and "integration" not in lowered
                and not re.search(r"\b20\d\d\b", sentence)
                and "version" not in lowered
                and "bilag 3" not in lowered
            ):
                sentences.append(sentence)
    return tuple(sentences)


class _Slots(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass
class Context:
    """The names a case's text refers to."""

    rng: random.Random
    body: str
    administration: str
    topic: str
    district: str
    year: int

    def fill(self, template: str) -> str:
        rng = self.rng
        slots = _Slots(
            udvalg=self.body,
            forvaltning=self.administration,
            emne=self.topic,
            bydel=self.district,
            år=str(self.year),
            forrige_år=str(self.year - 1),
            næste_år=str(self.year + 1),
            periode=f"{self.year + 1}-{self.year + 4}",
            dato=f"{rng.randint(1, 28)}. {rng.choice(MONTH_NAMES)} {self.year}",
            antal=str(rng.randint(3, 45)),
            beløb=f"{rng.randint(1, 120)},{rng.randint(0, 9)}",
            interessent=rng.choice(STAKEHOLDERS).replace("{bydel}", self.district),
        )
        slots.update({_capital(k): _capital(v) for k, v in list(slots.items())})
        return template.format_map(slots)

    def sentence(self) -> str:
        pool = seed_sentences() if self.rng.random() < 0.4 else OWN_SENTENCES
        return self.fill(self.rng.choice(pool))

    def paragraph(self, low: int = 2, high: int = 5) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))


MONTH_NAMES = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip


def case_sections(ctx: Context, length: float) -> list[dict[str, str]]:
    """Problemstilling, Løsning, Økonomi, Videre proces: `length` scales the paragraphs."""
    rng = ctx.rng

    def paragraphs(n: float) -> list[str]:
        return [ctx.paragraph() for _ in range(max(1, round(n * length * rng.uniform(0.6, 1.4))))]

    problem = paragraphs(1.5)
    solution = paragraphs(2.0)
    if rng.random() < 0.45:
        bullets = rng.sample(BULLETS, rng.randint(3, 6))
        solution.insert(min(1, len(solution)), "\n".join(f"- {ctx.fill(b)}" for b in bullets))
    economy = paragraphs(0.7)
    if rng.random() < 0.2:
        rows = [
            f"| {ctx.year + i} | {rng.randint(1, 60)},{rng.randint(0, 9)} |"
            for i in range(rng.randint(2, 4))
        ]
        economy.append("\n".join(["| år | mio. kr. |", "| --- | --- |", *rows]))
    process = paragraphs(0.7)
    if rng.random() < 0.3:
        rows = [
            f"| {rng.randint(1, 28)}. {MONTH_NAMES[m]} | {ctx.fill(a)} |"
            for m, a in zip(
                sorted(rng.sample(range(12), 4)), rng.sample(ACTIVITIES, 4), strict=True
            )
        ]
        process.append("\n".join(["| dato | aktivitet |", "| --- | --- |", *rows]))
    return [
        {"heading": "Problemstilling", "body": "\n\n".join(problem)},
        {"heading": "Løsning", "body": "\n\n".join(solution)},
        {"heading": "Økonomi", "body": "\n\n".join(economy)},
        {"heading": "Videre proces", "body": "\n\n".join(process)},
    ]


# --------------------------------------------------------------------------- attachments


@cache
def attachment_pool() -> tuple[bytes, ...]:
    """Twenty-four small real PDFs (one to three pages), made once with ReportLab."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pool = []
    for n in range(24):
        rng = _rng(0, "attachment", n)
        ctx = Context(rng, "Udvalget", "Forvaltningen", "planen", rng.choice(DISTRICTS), 2019)
        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
        pdf.setTitle(f"Bilag {n + 1}")
        for page in range(1 + n % 3):
            y = 800
            pdf.setFont("Helvetica-Bold", 14)
            pdf.drawString(60, y, f"Bilag {n + 1} – side {page + 1}")
            pdf.setFont("Helvetica", 10)
            for _ in range(30):
                y -= 22
                pdf.drawString(60, y, ctx.sentence()[:95])
            pdf.showPage()
        pdf.save()
        pool.append(buffer.getvalue())
    return tuple(pool)


@cache
def _attachment_file(index: int) -> dict[str, Any]:
    data = attachment_pool()[index]
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "content_base64": base64.b64encode(data).decode("ascii"),
    }


# --------------------------------------------------------------------------- bodies


@dataclass
class SeatSpec:
    party: str | None
    role: str
    starts_on: date
    ends_on: date | None


@dataclass
class Person:
    ref: str
    name: str
    seats: list[SeatSpec] = field(default_factory=list)

    def seat_on(self, day: date) -> SeatSpec | None:
        for seat in reversed(self.seats):
            if seat.starts_on <= day and (seat.ends_on is None or day <= seat.ends_on):
                return seat
        return None


@dataclass
class Roster:
    """A body over the ten years: its name, party order and members with their seats."""

    index: int
    name: str
    administration: str
    size: int
    domain: str
    party_order: list[str]
    people: list[Person]

    @property
    def genitive(self) -> str:
        return self.name + "s"

    def seated(self, day: date) -> list[tuple[Person, SeatSpec]]:
        out = []
        for person in self.people:
            seat = person.seat_on(day)
            if seat is not None:
                out.append((person, seat))
        return out


def _allocate(shares: dict[str, int], seats: int) -> dict[str, int]:
    """Seats per party by the largest remainder."""
    total = sum(shares.values())
    quotas = {p: s * seats / total for p, s in shares.items()}
    result = {p: int(q) for p, q in quotas.items()}
    for p in sorted(quotas, key=lambda p: (-(quotas[p] - result[p]), p))[
        : seats - sum(result.values())
    ]:
        result[p] += 1
    return result


@cache
def roster(seed: int, index: int) -> Roster:
    """Body `index` (0-24) over the three terms: seats per party by the term's shares, a
    chair and vice-chair, re-elected members kept, now and then a member who leaves their
    party (løsgænger) or the body during a term."""
    rng = _rng(seed, "body", index)
    name, administration, size, domain = BODIES[index]
    left = list(LEFT_ORDER)
    right = list(RIGHT_ORDER)
    if rng.random() < 0.5:
        i, j = rng.sample(range(len(left)), 2)
        left[i], left[j] = left[j], left[i]
    if rng.random() < 0.3:
        right.reverse()
    order = left + right
    used_names: set[str] = set()

    def new_name() -> str:
        while True:
            parts = [rng.choice(FIRST_NAMES), rng.choice(MIDDLE_NAMES), rng.choice(LAST_NAMES)]
            full = " ".join(p for p in parts if p)
            if full not in used_names and parts[1] != parts[2]:
                used_names.add(full)
                return full

    people: list[Person] = []
    previous: dict[str, list[Person]] = {}
    for term, (starts, ends) in enumerate(TERMS):
        shares = {p: max(1, s + rng.randint(-2, 2)) for p, s in SHARES[term].items()}
        allocation = _allocate(shares, size)
        current: dict[str, list[Person]] = {}
        for party in order:
            for k in range(allocation.get(party, 0)):
                keep = previous.get(party, [])
                if k < len(keep) and rng.random() < 0.6:
                    person = keep[k]
                else:
                    person = Person(f"m{len(people) + 1}", new_name())
                    people.append(person)
                person.seats.append(SeatSpec(party, "medlem", starts, ends))
                current.setdefault(party, []).append(person)
        # The largest party chairs; the vice-chair comes from the other side.
        biggest = max(order, key=lambda p: (len(current.get(p, [])), -order.index(p)))
        current[biggest][0].seats[-1].role = "formand"
        other = [p for p in order if current.get(p) and (LEAN[p] > 0) != (LEAN[biggest] > 0)]
        if other:
            current[other[0]][0].seats[-1].role = "naestformand"
        # Changes during the term: a løsgænger now and then, a member replaced.
        for party, members in current.items():
            for person in members:
                seat = person.seats[-1]
                if seat.role != "medlem":
                    continue
                roll = rng.random()
                if roll < 0.06:
                    day = starts + timedelta(days=rng.randint(200, 1200))
                    seat.ends_on = day - timedelta(days=1)
                    person.seats.append(SeatSpec(None, "medlem", day, ends))
                elif roll < 0.14:
                    day = starts + timedelta(days=rng.randint(200, 1200))
                    seat.ends_on = day - timedelta(days=1)
                    successor = Person(f"m{len(people) + 1}", new_name())
                    successor.seats.append(SeatSpec(party, "medlem", day, ends))
                    people.append(successor)
        previous = current
    # The last term's seats last (no end date): the record ends before the next election.
    for person in people:
        for seat in person.seats:
            if seat.ends_on == TERMS[-1][1]:
                seat.ends_on = None
    return Roster(index, name, administration, size, domain, order, people)


# --------------------------------------------------------------------------- schedule


@dataclass(frozen=True)
class Planned:
    """A meeting in the schedule and the state it ends up in."""

    body: int
    starts_at: datetime
    state: str


def full_schedule() -> list[tuple[int, datetime]]:
    """Every meeting of the ten years, by date: about eleven a body a year."""
    out = []
    for index in range(len(BODIES)):
        weekday = index % 4  # Monday to Thursday
        week = index % 3  # first, second or third week of the month
        hour, minute = (17, 0) if index == 0 else ((15, 30) if index % 2 else (16, 0))
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            for month in MEETING_MONTHS:
                first = date(year, month, 1)
                day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * week)
                out.append((index, datetime(year, month, day.day, hour, minute)))
    out.sort(key=lambda m: (m[1], m[0]))
    return out


def schedule(scale: float) -> list[Planned]:
    """An even sample (`scale` of the full record), with the most recent few meetings left
    planned, in session or closed, and everything before published."""
    by_body: dict[int, list[datetime]] = {}
    for body, starts_at in full_schedule():
        by_body.setdefault(body, []).append(starts_at)
    picked = []
    for body, dates in by_body.items():
        # Each body is sampled at its own phase, so a small scale still spans the bodies.
        phase = body / len(by_body) / scale if scale < 1 else 0
        picked += [
            (body, d)
            for i, d in enumerate(dates)
            if int((i + 1 + phase) * scale) > int((i + phase) * scale)
        ]
    picked.sort(key=lambda m: (m[1], m[0]))
    unpublished = max(3, round(len(picked) * 0.004))
    planned = max(1, unpublished // 3)
    out = []
    for i, (body, starts_at) in enumerate(picked):
        from_end = len(picked) - i
        if from_end <= planned:
            state = "planned"
        elif from_end == planned + 1:
            state = "in_session"
        elif from_end <= unpublished:
            state = "closed"
        else:
            state = "published"
        out.append(Planned(body, starts_at, state))
    return out


# --------------------------------------------------------------------------- meetings


def _position(rng: random.Random, lean: int, proposer_lean: int, support: float) -> str:
    """A party's position on a motion whose proposer sits at `proposer_lean`."""
    distance = abs(lean - proposer_lean)
    p_for = max(0.05, support - 0.18 * distance)
    roll = rng.random()
    if roll < p_for:
        return "for"
    if roll < p_for + 0.08:
        return "abstain"
    return "against"


def _vote(
    rng: random.Random,
    present: list[tuple[Person, SeatSpec]],
    proposer_lean: int,
    support: float,
    order: list[str],
) -> tuple[dict[str, Any], int, int]:
    """A recorded vote: a position per party present, a member's own position now and
    then (a split), every independent's; returns it with the for and against counts."""
    by_party: dict[str, list[Person]] = {}
    independents: list[Person] = []
    for person, seat in present:
        if seat.party is None:
            independents.append(person)
        else:
            by_party.setdefault(seat.party, []).append(person)
    parties: dict[str, str] = {}
    members: dict[str, str] = {}
    counts = {"for": 0, "against": 0, "abstain": 0, "not_voting": 0}
    for party in order:
        if party not in by_party:
            continue
        position = _position(rng, LEAN[party], proposer_lean, support)
        parties[party] = position
        for person in by_party[party]:
            own = position
            if len(by_party[party]) > 1 and rng.random() < 0.02:
                own = rng.choice([p for p in ("for", "against", "abstain") if p != position])
                members[person.ref] = own
            elif rng.random() < 0.003:
                own = members[person.ref] = "not_voting"
            counts[own] += 1
    for person in independents:
        own = _position(rng, 0, proposer_lean, support)
        members[person.ref] = own
        counts[own] += 1
    members = {ref: members[ref] for ref in sorted(members, key=lambda r: int(r[1:]))}
    return {"parties": parties, "members": members}, counts["for"], counts["against"]


def _vote_json(
    recorded: dict[str, Any] | None, *, mode: str = "default", without_vote: str | None = None
) -> dict[str, Any]:
    return {
        "is_open": False,
        "without_vote": without_vote,
        "parties": recorded["parties"] if recorded else {},
        "members": recorded["members"] if recorded else {},
        "result": {"mode": mode, "text": ""},
    }


def _file_name(title: str) -> str:
    slug = re.sub(r"[^a-z0-9æøå]+", "-", title.lower()).strip("-")[:60]
    return f"{slug or 'bilag'}.pdf"


def meeting_document(seed: int, planned: Planned) -> dict[str, Any]:
    """One meeting in the interchange format, in its final state (a published meeting is
    described as closed: the loader approves and publishes it through the lifecycle)."""
    body = roster(seed, planned.body)
    rng = _rng(seed, "meeting", planned.body, planned.starts_at.isoformat())
    day = planned.starts_at.date()
    state = planned.state
    is_held = state != "planned"
    seated = body.seated(day)

    # Attendance: about 7 % send their apologies; at least half attend (quorum).
    attendance = []
    present: list[tuple[Person, SeatSpec]] = []
    for person, seat in seated:
        is_present = not is_held or rng.random() > 0.07 or seat.role == "formand"
        attendance.append(
            {"member": person.ref, "is_present": is_present, "note": "" if is_present else "afbud"}
        )
        if is_present:
            present.append((person, seat))

    items = []
    count = rng.randint(12, 18) if planned.body else rng.randint(16, 22)
    current = count // 2 if state == "in_session" else count
    topics = TOPICS[body.domain]
    for n in range(1, count + 1):
        ctx = Context(
            rng,
            body.name,
            body.administration,
            rng.choice(topics),
            rng.choice(DISTRICTS),
            day.year,
        )
        ctx.topic = ctx.fill(ctx.topic)
        kind_roll = rng.random()
        is_closed = kind_roll < 0.05
        is_orientation = 0.05 <= kind_roll < 0.15
        if is_closed:
            title = ctx.fill(rng.choice(CLOSED_TITLES))
        elif is_orientation:
            title = ctx.fill(rng.choice(ORIENTATION_TITLES))
        else:
            title = ctx.fill(rng.choice(TITLE_TEMPLATES))
        title = _capital(title)
        length = rng.choice((0.5, 1.0, 1.0, 1.0, 1.6, 2.4))
        if is_orientation:
            length = 0.5
            lead_in = f"{body.administration} indstiller, at {body.name}"
            clauses = [{"lead_in": lead_in, "text": "at orienteringen tages til efterretning"}]
        else:
            lead_in = f"{body.administration} indstiller, at {body.name}"
            lead_in += (
                " over for Økonomiudvalget og Borgerrepræsentationen anbefaler,"
                if rng.random() < 0.4
                else " godkender,"
            )
            clauses = [
                {"lead_in": lead_in, "text": ctx.fill(c)}
                for c in rng.sample(CLAUSES, rng.randint(1, 4))
            ]
        attachments = []
        for number in range(1, rng.choices((0, 1, 2, 3), (35, 35, 20, 10))[0] + 1):
            title_a = _capital(ctx.fill(rng.choice(ATTACHMENT_TITLES)))
            attachments.append(
                {
                    "number": number,
                    "title": title_a,
                    "file_name": _file_name(title_a),
                    "file": _attachment_file(rng.randrange(len(attachment_pool()))),
                }
            )
        item: dict[str, Any] = {
            "number": n,
            "title": title[:500],
            "case_number": f"{day.year}-{rng.randint(10000, 999999):06d}",
            "is_closed": is_closed,
            "administration": body.administration,
            "summary": ctx.paragraph(1, 2),
            "recommendation": clauses,
            "sections": case_sections(ctx, length),
            "attachments": attachments,
            "signatories": [
                f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                for _ in range(rng.randint(1, 2))
            ],
            "attendance": [],
            "motions": [],
            "decision": None,
            "remarks": [],
        }
        items.append(item)
        if not is_held or n > current:
            continue

        # Who takes part: now and then a member is inhabil for one item.
        item_present = list(present)
        if len(present) > 3 and rng.random() < 0.03:
            person, _seat = rng.choice(present)
            item["attendance"].append({"member": person.ref, "presence": "inhabil"})
            item_present = [(p, s) for p, s in present if p is not person]

        if is_orientation:
            item["decision"] = {"result_key": "noted", "result_text": ""}
            continue
        if rng.random() < 0.02:
            party = rng.choice(sorted({s.party for _p, s in item_present if s.party}))
            item["motions"].append(
                {
                    "kind": "postponement",
                    "proposer": {"party": party},
                    "text": "At sagen udsættes til næste møde.",
                    "vote": _vote_json(None, without_vote="adopted"),
                }
            )
            item["decision"] = {"result_key": "postponed", "result_text": ""}
            continue

        # Amendments (0-4), each put to the vote, then the recommendation.
        adopted_amendments = 0
        lost_parties: set[str] = set()
        for _ in range(rng.choices((0, 1, 2, 3, 4), (20, 24, 22, 19, 15))[0]):
            proposer, seat = rng.choice(item_present)
            lean = LEAN[seat.party] if seat.party else 0
            recorded, pro, con = _vote(rng, item_present, lean, 0.95, body.party_order)
            adopted = pro > con
            adopted_amendments += adopted
            item["motions"].append(
                {
                    "kind": rng.choice(("amendment",) * 5 + ("addition",)),
                    "proposer": {"member": proposer.ref},
                    "text": "\n\n".join(
                        ctx.fill(a) for a in rng.sample(AMENDMENTS, rng.randint(1, 3))
                    ),
                    "vote": _vote_json(recorded, mode=rng.choice(("default",) * 4 + ("omitted",))),
                }
            )
            if not adopted and seat.party:
                lost_parties.add(seat.party)
        open_vote = state == "in_session" and n == current
        if rng.random() < 0.2 and not open_vote:
            vote = _vote_json(None, without_vote="adopted")
            item["motions"].append(
                {"kind": "recommendation", "proposer": None, "text": "", "vote": vote}
            )
            if adopted_amendments:
                vote["result"]["mode"] = "omitted"
                key = "approved_as_amended_without_vote"
                item["decision"] = {"result_key": key, "result_text": ""}
        else:
            recorded, pro, con = _vote(rng, item_present, -1, 0.9, body.party_order)
            for letter, position in recorded["parties"].items():
                if position == "against":
                    lost_parties.add(letter)
            vote = _vote_json(recorded)
            item["motions"].append(
                {"kind": "recommendation", "proposer": None, "text": "", "vote": vote}
            )
            if open_vote:
                vote["is_open"] = True
                continue
            if adopted_amendments or rng.random() < 0.5:
                vote["result"]["mode"] = "omitted"
                key = "rejected"
                if pro > con:
                    key = "approved_as_amended" if adopted_amendments else "approved"
                item["decision"] = {"result_key": key, "result_text": ""}

        # Protocol remarks: mostly from a party that lost a vote.
        roll = rng.random()
        in_body = sorted({s.party for _p, s in item_present if s.party}, key=body.party_order.index)
        if roll < 0.12 and in_body:
            party = rng.choice(sorted(lost_parties) or in_body)
            text = "\n\n".join(
                r.format(Parti=PARTY_NAMES[party], emne=ctx.topic, bydel=ctx.district)
                for r in rng.sample(REMARKS, rng.randint(1, 2))
            )
            item["remarks"].append(
                {
                    "kind": "party",
                    "party": party,
                    "member": None,
                    "co_parties": [],
                    "status": "accepted",
                    "text": text,
                }
            )
        elif roll < 0.15 and len(in_body) > 1:
            first, second = rng.sample(in_body, 2)
            names = f"{PARTY_NAMES[first]} og {PARTY_NAMES[second]}"
            item["remarks"].append(
                {
                    "kind": "joint",
                    "party": first,
                    "member": None,
                    "co_parties": [{"party": second, "is_confirmed": True}],
                    "status": "accepted",
                    "text": rng.choice(REMARKS).format(
                        Parti=names, emne=ctx.topic, bydel=ctx.district
                    ),
                }
            )
        elif roll < 0.17:
            person, _seat = rng.choice(item_present)
            item["remarks"].append(
                {
                    "kind": "personal",
                    "party": None,
                    "member": person.ref,
                    "co_parties": [],
                    "status": "accepted",
                    "text": rng.choice(PERSONAL_REMARKS),
                }
            )

    ends_at = None
    if state in ("closed", "published"):
        ends_at = planned.starts_at + timedelta(minutes=rng.randint(75, 210))
    return {
        "format": "protokol.meeting",
        "version": 1,
        "body": {
            "name": body.name,
            "genitive_name": body.genitive,
            "minutes_style": "kbh-udvalg-2010",
            "party_order": body.party_order,
        },
        "parties": [{"letter": p, "name": PARTY_NAMES[p]} for p in body.party_order],
        "members": [
            {
                "ref": person.ref,
                "name": person.name,
                "seats": [
                    {
                        "party": s.party,
                        "role": s.role,
                        "starts_on": s.starts_on.isoformat(),
                        "ends_on": s.ends_on.isoformat() if s.ends_on else None,
                    }
                    for s in person.seats
                ],
            }
            for person in body.people
        ],
        "meeting": {
            "starts_at": planned.starts_at.isoformat(),
            "ends_at": ends_at.isoformat() if ends_at else None,
            "location": "Rådhuset, udvalgsværelse " + str(1 + planned.body % 6)
            if planned.body
            else "Rådhuset, Borgerrepræsentationens mødesal",
            "state": "closed" if state == "published" else state,
            "attendance": attendance,
            "items": items,
        },
    }


def documents(seed: int, scale: float) -> Iterator[tuple[Planned, dict[str, Any]]]:
    """Every meeting of the record at `scale`, by date, with its document."""
    for planned in schedule(scale):
        yield planned, meeting_document(seed, planned)
