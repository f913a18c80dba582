"""Minutes styles: the Danish wording of the decision section is data, not code.

A style is a folder holding `style.toml` (labels, result sentences) and Jinja templates
(`heading.txt.j2`, `decision.txt.j2`, `vote.txt.j2`). Styles are found by name in the
folders named by the `PROTOKOL_STYLE_DIRS` setting, then among the shipped ones; a
style may `extends` another and override only some templates. See `docs/styles.md`.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

SHIPPED_STYLES_DIR = Path(__file__).parent / "styles"
DEFAULT_STYLE = "kbh-udvalg-2010"

DANISH_MONTHS = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip


class StyleError(Exception):
    """A style cannot be found, read or rendered."""


def short_date(value: date) -> str:
    """06.12.2010"""
    return value.strftime("%d.%m.%Y")


def long_date(value: date) -> str:
    """6. december 2010"""
    return f"{value.day}. {DANISH_MONTHS[value.month - 1]} {value.year}"


def join_and(values: Iterable[Any], sep: str = ", ", last: str = " og ") -> str:
    """ "A, B, F og Ø"."""
    items = [str(v) for v in values]
    if len(items) < 2:
        return "".join(items)
    return sep.join(items[:-1]) + last + items[-1]


def _deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class Style:
    """A loaded minutes style."""

    name: str
    title: str
    language: str
    #: Folders searched for templates, the style's own first, then those it extends.
    folders: list[Path]
    labels: dict[str, str] = field(default_factory=dict)
    #: results[motion kind][outcome or outcome_without_vote] → sentence.
    results: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The standard final result sentences, key → sentence, in the style's order.
    final_results: dict[str, str] = field(default_factory=dict)
    env: SandboxedEnvironment = field(init=False, repr=False)

    def __post_init__(self) -> None:
        env = SandboxedEnvironment(
            loader=FileSystemLoader([str(f) for f in self.folders]),
            autoescape=False,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # A process reads a style once (`load_style` is cached; docs/styles.md: restart
            # after changing one): no file's modification time is checked on every render
            # (a stat a template, some 600 for a page of ten OParl meetings).
            auto_reload=False,
        )
        env.filters.update(short_date=short_date, long_date=long_date, join_and=join_and)
        self.env = env

    def result_sentence(self, kind: str, outcome: str, *, without_vote: bool) -> str:
        """The standard sentence after a vote on a motion of `kind`."""
        key = f"{outcome}_without_vote" if without_vote else outcome
        return self.results.get(kind, {}).get(key, "")

    def render(self, template: str, context: dict[str, Any]) -> str:
        """Render one of the style's templates."""
        try:
            return self.env.get_template(template).render(labels=self.labels, **context)
        except TemplateError as exc:
            where = repr(template)
            if isinstance(exc, TemplateSyntaxError):
                # The template at fault may be an included one ("vote.txt.j2").
                where = f"{(exc.name or template)!r}, line {exc.lineno}"
            raise StyleError(f"style {self.name!r}, template {where}: {exc}") from exc


def style_folders(extra_dirs: Sequence[str] = ()) -> list[Path]:
    """Where styles are looked for, in order: the configured folders, then the shipped."""
    return [Path(d) for d in extra_dirs] + [SHIPPED_STYLES_DIR]


def available_styles(extra_dirs: Sequence[str] = ()) -> list[str]:
    """The names of every style that can be found."""
    names: set[str] = set()
    for folder in style_folders(extra_dirs):
        if folder.is_dir():
            names.update(p.parent.name for p in folder.glob("*/style.toml"))
    return sorted(names)


def _find_folder(name: str, extra_dirs: Sequence[str]) -> Path:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise StyleError(f"invalid style name {name!r}")
    for folder in style_folders(extra_dirs):
        candidate = folder / name
        if (candidate / "style.toml").is_file():
            return candidate
    raise StyleError(f"no minutes style named {name!r}")


@functools.lru_cache(maxsize=64)
def _load(name: str, extra_dirs: tuple[str, ...], _chain: tuple[str, ...] = ()) -> Style:
    if name in _chain:
        raise StyleError(f"style {name!r} extends itself through {' → '.join(_chain)}")
    folder = _find_folder(name, extra_dirs)
    try:
        meta = tomllib.loads((folder / "style.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise StyleError(f"style {name!r}: cannot read style.toml: {exc}") from exc
    folders = [folder]
    data: dict[str, Any] = {}
    if parent_name := meta.get("extends"):
        parent = _load(parent_name, extra_dirs, (*_chain, name))
        folders += parent.folders
        data = {
            "labels": parent.labels,
            "results": parent.results,
            "final_results": parent.final_results,
        }
    data = _deep_merge(data, {k: meta.get(k, {}) for k in ("labels", "results", "final_results")})
    return Style(
        name=name,
        title=meta.get("title", name),
        language=meta.get("language", "da"),
        folders=folders,
        labels=data["labels"],
        results=data["results"],
        final_results=data["final_results"],
    )


def load_style(name: str, extra_dirs: Sequence[str] = ()) -> Style:
    """Find and load the style called `name` (cached)."""
    return _load(name, tuple(extra_dirs))
