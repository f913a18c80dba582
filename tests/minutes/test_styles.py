"""Minutes styles: finding and loading them (shipped, configured, extended), their
errors, their filters, and the decision section they word from the record: vote lines,
result sentences, the final decision and protocol remarks."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from minutes.context import build_decision, build_minutes, decision_context
from minutes.models import RemarkCoParty, RemarkKind, RemarkStatus
from minutes.styles import (
    SHIPPED_STYLES_DIR,
    StyleError,
    available_styles,
    join_and,
    load_style,
    long_date,
    short_date,
)
from motions.models import MotionKind
from votes.models import Outcome, ResultMode

#: The seed's first vote on item 14: C's amendment, V, O and C for, the rest against.
SEED_VOTE = {"V": "for", "O": "for", "C": "for", "A": "against", "B": "against",
             "F": "against", "Ø": "against"}  # fmt: skip
SEED_LINES = "For stemte: 3 (V, O, C)\nImod stemte: 6 (A, B, F, Ø)\nUndlod: Ingen"
HEADING = "Testudvalgets beslutning den 06.12.2010"

#: A style of one's own: the Copenhagen style with the vote as one sentence.
SENTENCE_VOTE = (
    "Afstemning: {{ vote.sides.for.count }} for ({{ vote.sides.for.labels | join_and }}), "
    "{{ vote.sides.against.count }} imod ({{ vote.sides.against.labels | join_and }}) og "
    "{{ vote.sides.abstain.count }} hverken for eller imod.\n"
)


def write_style(root: Path, name: str, toml: str = "", **templates: str) -> Path:
    """Write a style folder `root/name` with its style.toml and templates; returns root."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "style.toml").write_text(toml, encoding="utf-8")
    for template, text in templates.items():
        (folder / template.replace("_", ".")).write_text(text, encoding="utf-8")
    return root


def add_vote(factories, motion, **kwargs):
    return factories.vote(motion, **kwargs)


def add_co_party(factories, remark, letter: str, *, confirmed: bool) -> None:
    remark.co_parties.append(
        RemarkCoParty(
            party=factories.party(letter), position=len(remark.co_parties), is_confirmed=confirmed
        )
    )
    factories.session.flush()


@pytest.fixture
def item(factories):
    """An item at a meeting of the seed's committee (A 3 seats, B F Ø V O C one each)."""
    return factories.item(factories.meeting())


@pytest.fixture
def kbh():
    return load_style("kbh-udvalg-2010")


@pytest.fixture
def seed_amendment(factories, item):
    """C 1's amendment, voted down 3–6 as in the seed."""
    motion = factories.motion(item, proposer="C 1", text="Indsættes efter overskriften.")
    add_vote(factories, motion, parties=SEED_VOTE)
    return motion


def blocks(item, style) -> list[str]:
    decision = build_decision(item, style)
    assert decision is not None
    return decision.blocks


# --- finding and loading styles --------------------------------------------------------


def test_shipped_styles_are_available():
    assert {"kbh-udvalg-2010", "generic-da"} <= set(available_styles())


def test_load_shipped_style(kbh):
    assert kbh.name == "kbh-udvalg-2010"
    assert kbh.title == "Københavns Kommune, udvalg (2010)"
    assert kbh.language == "da"
    assert kbh.folders == [SHIPPED_STYLES_DIR / "kbh-udvalg-2010"]
    assert kbh.labels["amendment"] == "ændringsforslag"
    assert kbh.labels["decision"] == "beslutning"
    assert kbh.final_results["approved_as_amended"] == (
        "Indstillingen blev herefter godkendt med de foreslåede ændringer."
    )


def test_extending_style_inherits_and_overrides():
    generic = load_style("generic-da")

    assert generic.name == "generic-da"
    assert generic.folders == [
        SHIPPED_STYLES_DIR / "generic-da",
        SHIPPED_STYLES_DIR / "kbh-udvalg-2010",
    ]
    assert generic.labels["decision"] == "Beslutning"  # its own
    assert generic.labels["amendment"] == "ændringsforslag"  # inherited
    assert generic.result_sentence("amendment", "rejected", without_vote=False) == (
        "Forslaget blev dermed forkastet."
    )
    assert generic.final_results == load_style("kbh-udvalg-2010").final_results


def test_result_sentence_by_kind_outcome_and_without_vote(kbh):
    assert kbh.result_sentence("amendment", "rejected", without_vote=False) == (
        "Forslaget blev dermed forkastet."
    )
    assert kbh.result_sentence("amendment", "adopted", without_vote=True) == (
        "Ændringsforslaget blev vedtaget uden afstemning."
    )
    assert kbh.result_sentence("recommendation", "adopted", without_vote=False) == (
        "Indstillingen blev dermed godkendt."
    )
    assert kbh.result_sentence("no-such-kind", "adopted", without_vote=False) == ""


def test_configured_folder_adds_styles_and_missing_folders_are_ignored(tmp_path):
    root = write_style(tmp_path / "styles", "egen", 'extends = "kbh-udvalg-2010"\n')

    names = available_styles([str(root), str(tmp_path / "findes-ikke")])

    assert "egen" in names
    assert {"kbh-udvalg-2010", "generic-da"} <= set(names)
    assert "egen" not in available_styles()


def test_folder_without_style_toml_is_not_a_style(tmp_path):
    root = tmp_path / "styles"
    (root / "halv").mkdir(parents=True)
    (root / "halv" / "vote.txt.j2").write_text("x", encoding="utf-8")

    assert "halv" not in available_styles([str(root)])
    with pytest.raises(StyleError, match="no minutes style named 'halv'"):
        load_style("halv", [str(root)])


def test_configured_style_is_found_before_a_shipped_one_of_the_same_name(tmp_path):
    root = write_style(tmp_path, "generic-da", 'title = "Min egen"\n')

    assert load_style("generic-da", [str(root)]).title == "Min egen"
    assert load_style("generic-da").title == "Generisk dansk stil (eksempel)"


def test_a_loaded_style_does_not_read_its_templates_again(tmp_path):
    """A process reads a style once (docs/styles.md: restart after changing one): a
    template changed on disk after its first render is not picked up, and no file's
    modification time is checked on every render."""
    root = write_style(tmp_path, "fast", "", hello_txt_j2="Goddag {{ name }}")
    style = load_style("fast", [str(root)])
    assert style.render("hello.txt.j2", {"name": "Ø"}) == "Goddag Ø"
    (root / "fast" / "hello.txt.j2").write_text("Farvel {{ name }}", encoding="utf-8")
    assert style.render("hello.txt.j2", {"name": "Ø"}) == "Goddag Ø"


def test_unknown_style_is_an_error():
    with pytest.raises(StyleError, match="no minutes style named 'findes-ikke'"):
        load_style("findes-ikke")


@pytest.mark.parametrize(
    "name",
    ["", "..", ".", "../kbh-udvalg-2010", "kbh-udvalg-2010/../generic-da", "a/b", "a\\b",
     ".skjult", "/etc"],
)  # fmt: skip
def test_style_names_that_could_leave_the_style_folders_are_refused(name):
    with pytest.raises(StyleError, match="invalid style name"):
        load_style(name)


def test_extends_with_a_path_is_refused(tmp_path):
    root = write_style(tmp_path, "udbryder", 'extends = "../kbh-udvalg-2010"\n')
    with pytest.raises(StyleError, match="invalid style name"):
        load_style("udbryder", [str(root)])


def test_style_that_extends_itself_is_an_error(tmp_path):
    root = write_style(tmp_path, "selv", 'extends = "selv"\n')
    with pytest.raises(StyleError, match="'selv' extends itself"):
        load_style("selv", [str(root)])


def test_styles_that_extend_each_other_are_an_error(tmp_path):
    write_style(tmp_path, "hoene", 'extends = "aegget"\n')
    write_style(tmp_path, "aegget", 'extends = "hoene"\n')
    with pytest.raises(StyleError, match="extends itself"):
        load_style("hoene", [str(tmp_path)])


def test_style_extending_a_missing_style_is_an_error(tmp_path):
    root = write_style(tmp_path, "forældreløs", 'extends = "findes-ikke"\n')
    with pytest.raises(StyleError, match="no minutes style named 'findes-ikke'"):
        load_style("forældreløs", [str(root)])


def test_unreadable_style_toml_is_an_error(tmp_path):
    root = write_style(tmp_path, "rod", "extends = \n")
    with pytest.raises(StyleError, match=r"style 'rod': cannot read style\.toml"):
        load_style("rod", [str(root)])


# --- a style of one's own ----------------------------------------------------------------


def test_custom_style_overriding_only_the_vote_lines(factories, item, seed_amendment, tmp_path):
    root = write_style(tmp_path, "egen", 'extends = "kbh-udvalg-2010"\n', vote_txt_j2=SENTENCE_VOTE)
    style = load_style("egen", [str(root)])

    assert blocks(item, style) == [
        "C 1 (C) stillede følgende ændringsforslag:",
        "Indsættes efter overskriften.",
        "Afstemning: 3 for (V, O og C), 6 imod (A, B, F og Ø) og 0 hverken for eller imod.",
        "Forslaget blev dermed forkastet.",
    ]
    # The heading and the rest come from the style it extends.
    assert build_decision(item, style).heading == HEADING
    # The shipped style is untouched.
    assert blocks(item, load_style("kbh-udvalg-2010"))[2] == SEED_LINES


def test_custom_style_overriding_labels_and_result_sentences(
    factories, item, seed_amendment, tmp_path
):
    root = write_style(
        tmp_path,
        "egen",
        'extends = "kbh-udvalg-2010"\n'
        "[labels]\n"
        'amendment = "ændringsforslag til indstillingen"\n'
        'decision = "afgørelse"\n'
        "[results.amendment]\n"
        'rejected = "Ændringsforslaget faldt."\n',
    )
    style = load_style("egen", [str(root)])

    decision = build_decision(item, style)
    assert decision.heading == "Testudvalgets afgørelse den 06.12.2010"
    assert decision.blocks == [
        "C 1 (C) stillede følgende ændringsforslag til indstillingen:",
        "Indsættes efter overskriften.",
        SEED_LINES,
        "Ændringsforslaget faldt.",
    ]
    # The sentences not overridden are inherited.
    assert style.result_sentence("amendment", "adopted", without_vote=False) == (
        "Forslaget blev dermed vedtaget."
    )


def test_generic_style_words_the_seed_vote_in_a_sentence(factories, item, seed_amendment):
    decision = build_decision(item, load_style("generic-da"))

    assert decision.heading == "Beslutning i Testudvalget den 6. december 2010"
    assert decision.blocks == [
        "C 1 (C) stillede følgende ændringsforslag:",
        "Indsættes efter overskriften.",
        "Der blev stemt således: for 3 (V, O og C), imod 6 (A, B, F og Ø), ingen undlod.",
        "Forslaget blev dermed forkastet.",
    ]


def test_style_from_the_app_config_is_used_by_the_minutes(
    app, factories, item, seed_amendment, runner, tmp_path
):
    root = write_style(
        tmp_path / "kommunens-stile",
        "egen",
        'extends = "kbh-udvalg-2010"\n',
        vote_txt_j2=SENTENCE_VOTE,
    )
    app.config["PROTOKOL_STYLE_DIRS"] = [str(root)]
    item.meeting.body.minutes_style = "egen"
    factories.session.flush()
    sentence = "Afstemning: 3 for (V, O og C), 6 imod (A, B, F og Ø) og 0 hverken for eller imod."

    minutes = build_minutes(item.meeting, style_dirs=app.config["PROTOKOL_STYLE_DIRS"])
    assert minutes.style.name == "egen"
    assert minutes.items[0].decision.blocks[2] == sentence

    # The command line takes the folders from the app's configuration.
    out = tmp_path / "protokol.txt"
    result = runner.invoke(
        args=["minutes", "render", str(item.meeting.id), "--format", "txt", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert sentence in text
    assert "For stemte" not in text


def test_app_created_with_style_dirs_finds_the_style(database_url, tmp_path):
    from tests.conftest import make_app

    root = write_style(tmp_path / "stile", "egen", 'title = "Egen stil"\n')
    app = make_app(database_url, tmp_path, PROTOKOL_STYLE_DIRS=[str(root)])

    dirs = app.config["PROTOKOL_STYLE_DIRS"]
    assert "egen" in available_styles(dirs)
    assert load_style("egen", dirs).title == "Egen stil"


def test_body_without_configured_folder_cannot_use_a_custom_style(factories, item, app):
    item.meeting.body.minutes_style = "egen"
    with pytest.raises(StyleError, match="no minutes style named 'egen'"):
        build_minutes(item.meeting, style_dirs=app.config["PROTOKOL_STYLE_DIRS"])


def test_template_error_names_style_and_template(factories, item, seed_amendment, tmp_path):
    root = write_style(
        tmp_path,
        "fejl",
        'extends = "kbh-udvalg-2010"\n',
        heading_txt_j2="{{ body.findes_ikke }}\n",
    )
    with pytest.raises(StyleError) as info:
        build_decision(item, load_style("fejl", [str(root)]))
    message = str(info.value)
    assert "'fejl'" in message
    assert "'heading.txt.j2'" in message
    assert "findes_ikke" in message


def test_syntax_error_in_an_included_template_names_it(factories, item, seed_amendment, tmp_path):
    root = write_style(tmp_path, "fejl", 'extends = "kbh-udvalg-2010"\n', vote_txt_j2="{% if %}\n")
    with pytest.raises(StyleError) as info:
        build_decision(item, load_style("fejl", [str(root)]))
    message = str(info.value)
    assert message.startswith("style 'fejl', template 'vote.txt.j2', line 1: ")
    assert "Expected an expression" in message


def test_syntax_error_names_the_template_and_line(factories, item, seed_amendment, tmp_path):
    root = write_style(
        tmp_path,
        "fejl",
        'extends = "kbh-udvalg-2010"\n',
        heading_txt_j2="{{ body.name }}\n{{ body.name\n",
    )
    with pytest.raises(StyleError, match=r"^style 'fejl', template 'heading.txt.j2', line \d: "):
        build_decision(item, load_style("fejl", [str(root)]))


def test_templates_run_in_a_sandbox(factories, item, seed_amendment, tmp_path):
    root = write_style(
        tmp_path,
        "ond",
        'extends = "kbh-udvalg-2010"\n',
        heading_txt_j2="{{ body.__class__.__mro__ }}\n",
    )
    with pytest.raises(StyleError, match="'ond'"):
        build_decision(item, load_style("ond", [str(root)]))


# --- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], ""),
        (["A"], "A"),
        (["A", "B"], "A og B"),
        (["A", "B", "F", "Ø"], "A, B, F og Ø"),
        ((n for n in (1, 2, 3)), "1, 2 og 3"),
    ],
)
def test_join_and(values, expected):
    assert join_and(values) == expected


def test_join_and_with_own_separators():
    assert join_and(["A", "B", "C"], sep="; ", last=" samt ") == "A; B samt C"


def test_short_date():
    assert short_date(date(2010, 12, 6)) == "06.12.2010"
    assert short_date(datetime(2011, 1, 31, 15, 30)) == "31.01.2011"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2010, 12, 6), "6. december 2010"),
        (date(2011, 1, 31), "31. januar 2011"),
        (date(2011, 5, 1), "1. maj 2011"),
        (datetime(2010, 3, 15, 9, 0), "15. marts 2010"),
    ],
)
def test_long_date(day, expected):
    assert long_date(day) == expected


def test_filters_are_available_in_templates(factories, item, seed_amendment, tmp_path):
    root = write_style(
        tmp_path,
        "datoer",
        'extends = "kbh-udvalg-2010"\n',
        heading_txt_j2=(
            "{{ meeting.date | short_date }} / {{ meeting.date | long_date }} / "
            "{{ ['V', 'O', 'C'] | join_and }}\n"
        ),
    )
    decision = build_decision(item, load_style("datoer", [str(root)]))
    assert decision.heading == "06.12.2010 / 6. december 2010 / V, O og C"


# --- the decision section: votes -----------------------------------------------------------


def test_seed_amendment_voted_down(item, seed_amendment, kbh):
    decision = build_decision(item, kbh)

    assert decision.heading == HEADING
    assert decision.blocks == [
        "C 1 (C) stillede følgende ændringsforslag:",
        "Indsættes efter overskriften.",
        SEED_LINES,
        "Forslaget blev dermed forkastet.",
    ]
    assert decision.as_text() == "\n\n".join([HEADING, *decision.blocks]) + "\n"


def test_item_with_nothing_recorded_has_no_decision_section(item, kbh):
    assert build_decision(item, kbh) is None


def test_split_vote_lists_the_split_party_by_member(factories, item, kbh):
    motion = factories.motion(item, proposer="C 1")
    add_vote(factories, motion, parties=SEED_VOTE, members={"A 1": "for"})

    # A leads each side (it is first in the body's order); its members are named.
    assert blocks(item, kbh)[2] == (
        "For stemte: 4 (A 1 (A), V, O, C)\n"
        "Imod stemte: 5 (A 2 (A), A 3 (A), B, F, Ø)\n"
        "Undlod: Ingen"
    )


def test_abstentions_are_listed(factories, item, kbh):
    motion = factories.motion(item, proposer="C 1")
    add_vote(factories, motion, parties=SEED_VOTE | {"C": "abstain", "B": "abstain"})

    assert blocks(item, kbh)[2:] == [
        "For stemte: 2 (V, O)\nImod stemte: 5 (A, F, Ø)\nUndlod: 2 (B, C)",
        "Forslaget blev dermed forkastet.",
    ]


def test_nobody_against_reads_ingen(factories, item, kbh):
    motion = factories.motion(item, MotionKind.RECOMMENDATION)
    add_vote(factories, motion, parties={p: "for" for p in SEED_VOTE})

    assert blocks(item, kbh) == [
        "Indstillingen blev sat under afstemning.",
        "For stemte: 9 (A, B, F, Ø, V, O, C)\nImod stemte: Ingen\nUndlod: Ingen",
        "Indstillingen blev dermed godkendt.",
    ]


def test_independent_is_labelled_as_such(factories, kbh):
    meeting = factories.meeting({"A": 2, "V": 1, None: 1})
    item = factories.item(meeting)
    motion = factories.motion(item, proposer="Løsgænger 1")
    add_vote(
        factories, motion, parties={"A": "against", "V": "for"}, members={"Løsgænger 1": "for"}
    )

    assert blocks(item, kbh) == [
        "Løsgænger 1 (løsgænger) stillede følgende ændringsforslag:",
        "Forslag.",
        "For stemte: 2 (V, Løsgænger 1 (løsgænger))\nImod stemte: 2 (A)\nUndlod: Ingen",
        "Forslaget blev dermed forkastet.",
    ]


def test_independent_label_comes_from_the_style(factories, tmp_path):
    root = write_style(
        tmp_path, "egen", 'extends = "kbh-udvalg-2010"\n[labels]\nindependent = "uden for parti"\n'
    )
    meeting = factories.meeting({"A": 1, None: 1})
    item = factories.item(meeting)
    add_vote(
        factories,
        factories.motion(item),
        parties={"A": "against"},
        members={"Løsgænger 1": "for"},
    )

    lines = blocks(item, load_style("egen", [str(root)]))[2]
    assert lines.splitlines()[0] == "For stemte: 1 (Løsgænger 1 (uden for parti))"


def test_members_not_voting_and_absent_are_left_out_of_the_lines(factories, kbh):
    meeting = factories.meeting(absent=("B 1",))
    item = factories.item(meeting)
    factories.absent_for_item(item, "F 1")
    motion = factories.motion(item, proposer="C 1")
    add_vote(factories, motion, parties=SEED_VOTE, members={"A 3": "not_voting"})

    assert blocks(item, kbh)[2] == "For stemte: 3 (V, O, C)\nImod stemte: 3 (A, Ø)\nUndlod: Ingen"
    vote = decision_context(item, kbh)["motions"][0]["vote"]
    assert vote["not_voting"] == ["A 3 (A)"]
    assert vote["present"] == 7
    assert vote["votes_cast"] == 6
    assert vote["body_size"] == 9
    assert vote["outcome"] == "rejected"


def test_motion_by_a_party_and_by_another_proposer(factories, item, kbh):
    add_vote(factories, factories.motion(item, party="O", text="Udsæt sagen."), parties=SEED_VOTE)
    motion = factories.motion(item, MotionKind.ADDITION, text="Tilføj et punkt.")
    motion.proposer_name = "Beskæftigelses- og Integrationsforvaltningen"
    add_vote(factories, motion, parties={p: "for" for p in SEED_VOTE})

    assert blocks(item, kbh) == [
        "Dansk Folkeparti stillede følgende ændringsforslag:",
        "Udsæt sagen.",
        SEED_LINES,
        "Forslaget blev dermed forkastet.",
        "Beskæftigelses- og Integrationsforvaltningen stillede følgende tillægsforslag:",
        "Tilføj et punkt.",
        "For stemte: 9 (A, B, F, Ø, V, O, C)\nImod stemte: Ingen\nUndlod: Ingen",
        "Tillægsforslaget blev dermed vedtaget.",
    ]


# --- result sentences ----------------------------------------------------------------------


def test_custom_result_sentence(factories, item, kbh):
    motion = factories.motion(item, proposer="C 1")
    add_vote(
        factories,
        motion,
        parties=SEED_VOTE,
        result_mode=ResultMode.CUSTOM,
        result_text="  Forslaget faldt med 3 mod 6 stemmer.\n",
    )

    assert blocks(item, kbh)[2:] == [SEED_LINES, "Forslaget faldt med 3 mod 6 stemmer."]


def test_custom_result_mode_with_no_text_prints_no_sentence(factories, item, kbh):
    motion = factories.motion(item, proposer="C 1")
    add_vote(factories, motion, parties=SEED_VOTE, result_mode=ResultMode.CUSTOM)

    assert blocks(item, kbh)[-1] == SEED_LINES


def test_omitted_result_sentence(factories, item, kbh):
    motion = factories.motion(item, proposer="B 1", text="Tilføj grafer.")
    add_vote(
        factories,
        motion,
        parties={p: ("against" if v == "for" else "for") for p, v in SEED_VOTE.items()},
        result_mode=ResultMode.OMITTED,
    )

    assert blocks(item, kbh) == [
        "B 1 (B) stillede følgende ændringsforslag:",
        "Tilføj grafer.",
        "For stemte: 6 (A, B, F, Ø)\nImod stemte: 3 (V, O, C)\nUndlod: Ingen",
    ]


@pytest.mark.parametrize(
    ("outcome", "sentence"),
    [
        (Outcome.ADOPTED, "Ændringsforslaget blev vedtaget uden afstemning."),
        (Outcome.REJECTED, "Ændringsforslaget blev forkastet uden afstemning."),
    ],
)
def test_decided_without_a_vote(factories, item, kbh, outcome, sentence):
    motion = factories.motion(item, proposer="C 1")
    add_vote(factories, motion, is_without_vote=True, outcome_without_vote=outcome)

    assert blocks(item, kbh) == [
        "C 1 (C) stillede følgende ændringsforslag:",
        "Forslag.",
        sentence,
    ]


def test_vote_with_no_positions_prints_no_vote_lines_and_no_result(factories, item, kbh):
    add_vote(factories, factories.motion(item, proposer="C 1"))

    assert blocks(item, kbh) == ["C 1 (C) stillede følgende ændringsforslag:", "Forslag."]


def test_recommendation_put_to_the_vote_is_announced_only_when_counted(factories, item, kbh):
    motion = factories.motion(item, MotionKind.RECOMMENDATION)
    add_vote(factories, motion, is_without_vote=True, outcome_without_vote=Outcome.ADOPTED)
    assert blocks(item, kbh) == ["Indstillingen blev godkendt uden afstemning."]


def test_motion_without_vote_record_prints_no_vote_lines(factories, item, kbh):
    factories.motion(item, proposer="C 1")
    assert blocks(item, kbh) == ["C 1 (C) stillede følgende ændringsforslag:", "Forslag."]


def test_motion_text_keeps_its_paragraphs(factories, item, kbh):
    factories.motion(item, proposer="C 1", text="Første afsnit.\r\n\r\nAndet afsnit  \nlinje 2")
    assert blocks(item, kbh)[1:] == ["Første afsnit.", "Andet afsnit\nlinje 2"]


# --- the final decision --------------------------------------------------------------------


def test_final_result_from_the_style(factories, item, seed_amendment, kbh):
    factories.decision(item, result_key="approved_as_amended")

    assert blocks(item, kbh)[-1] == (
        "Indstillingen blev herefter godkendt med de foreslåede ændringer."
    )


def test_final_result_text_overrides_the_key(factories, item, kbh):
    factories.decision(item, result_key="approved", result_text="Sagen blev sendt tilbage.")
    assert blocks(item, kbh) == ["Sagen blev sendt tilbage."]


def test_final_result_alone_makes_a_decision_section(factories, item, kbh):
    factories.decision(item, result_key="noted")
    assert blocks(item, kbh) == ["Indstillingen blev taget til efterretning."]


def test_final_result_with_unknown_or_empty_key_prints_nothing(factories, item, kbh):
    factories.decision(item, result_key="findes-ikke")
    assert build_decision(item, kbh) is None


def test_final_result_key_maps_to_the_style_in_use(factories, item, tmp_path):
    root = write_style(
        tmp_path,
        "egen",
        'extends = "kbh-udvalg-2010"\n'
        '[final_results]\nnoted = "Udvalget tog sagen til efterretning."\n',
    )
    factories.decision(item, result_key="noted")

    assert blocks(item, load_style("egen", [str(root)])) == ["Udvalget tog sagen til efterretning."]


# --- protocol remarks ----------------------------------------------------------------------


def test_party_remark(factories, item, kbh):
    factories.remark(item, "Første afsnit.\n\nAndet afsnit.", party="O")

    assert blocks(item, kbh) == [
        "Der var følgende protokolbemærkning fra O:",
        "Første afsnit.",
        "Andet afsnit.",
    ]


def test_joint_remark_lists_confirmed_parties_in_body_order(factories, item, kbh):
    remark = factories.remark(item, "Fælles.", party="F", kind=RemarkKind.JOINT)
    add_co_party(factories, remark, "Ø", confirmed=False)
    add_co_party(factories, remark, "B", confirmed=True)
    add_co_party(factories, remark, "A", confirmed=True)

    assert blocks(item, kbh) == [
        "Der var følgende fælles protokolbemærkning fra A, B og F:",
        "Fælles.",
    ]
    context = decision_context(item, kbh)["remarks"][0]
    assert context["parties"] == ["A", "B", "F"]
    # The names are given in the same order as the letters.
    assert context["party_names"] == [
        "Socialdemokratiet",
        "Det Radikale Venstre",
        "SF - Socialistisk Folkeparti",
    ]


def test_joint_remark_before_anyone_confirms_names_the_filing_party(factories, item, kbh):
    remark = factories.remark(item, "Fælles.", party="V", kind=RemarkKind.JOINT)
    add_co_party(factories, remark, "C", confirmed=False)

    assert blocks(item, kbh)[0] == "Der var følgende fælles protokolbemærkning fra V:"


def test_personal_remark(factories, item, kbh):
    factories.remark(item, "Personlig.", member="A 2", kind=RemarkKind.PERSONAL)
    assert blocks(item, kbh) == ["Der var følgende protokolbemærkning fra A 2 (A):", "Personlig."]


def test_personal_remark_of_an_independent(factories, kbh):
    item = factories.item(factories.meeting({"A": 1, None: 1}))
    factories.remark(item, "Personlig.", member="Løsgænger 1", kind=RemarkKind.PERSONAL)

    assert blocks(item, kbh)[0] == (
        "Der var følgende protokolbemærkning fra Løsgænger 1 (løsgænger):"
    )


def test_only_accepted_remarks_appear(factories, item, kbh):
    factories.remark(item, "Indsendt.", party="A", status=RemarkStatus.SUBMITTED)
    factories.remark(item, "Godkendt.", party="O", status=RemarkStatus.ACCEPTED)
    factories.remark(item, "Sendt retur.", party="C", status=RemarkStatus.RETURNED)

    assert blocks(item, kbh) == ["Der var følgende protokolbemærkning fra O:", "Godkendt."]


def test_item_with_only_unaccepted_remarks_has_no_decision_section(factories, item, kbh):
    factories.remark(item, "Indsendt.", party="A", status=RemarkStatus.SUBMITTED)
    assert build_decision(item, kbh) is None


def test_whole_decision_section_in_order(factories, item, seed_amendment, kbh):
    factories.decision(item, result_key="approved_as_amended")
    factories.remark(item, "O's bemærkning.", party="O")
    factories.remark(item, "C's bemærkning.", party="C")

    assert blocks(item, kbh) == [
        "C 1 (C) stillede følgende ændringsforslag:",
        "Indsættes efter overskriften.",
        SEED_LINES,
        "Forslaget blev dermed forkastet.",
        "Indstillingen blev herefter godkendt med de foreslåede ændringer.",
        "Der var følgende protokolbemærkning fra O:",
        "O's bemærkning.",
        "Der var følgende protokolbemærkning fra C:",
        "C's bemærkning.",
    ]
