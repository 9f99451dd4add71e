"""What the report says in words: finding statuses, measured error rates, values for people,
and which metadata fields stay out of print.

The item pages and the summary read the same functions here, so the summary can never say
something the item page does not (and the reverse).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

#: finding statuses the item page prints (the rest are counted or left out)
STATUS_INDICATES = "indicates"
STATUS_NO_EVIDENCE = "no_evidence"
STATUS_FAILED = "failed"
STATUS_NOT_APPLICABLE = "not_applicable"
STATUS_INFO = "info"

#: metadata fields withheld from print unless ``--show-location``: positions, serial numbers,
#: names of owners and authors (a victim's home, a device she owns, her name)
WITHHELD_WORDS = ("gps", "latitude", "longitude", "altitude", "location", "serial",
                  "owner", "artist", "author", "copyright", "byline")  # fmt: skip

Translate = Callable[..., str]


@dataclass(frozen=True)
class ItemSignals:
    """One item's analysis as the report states it."""

    analysed: bool
    #: findings that indicate (passed a threshold set at <= 1 % FPR) or are positive proof
    indicating: tuple[dict[str, Any], ...]
    #: checks that ran and found no sign (this does not prove absence)
    no_sign: int
    #: detectors that broke on the item (a fault of the tool)
    failed: int


def findings_of(docs: Iterable[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every finding of an item's analysis documents, in stored order."""
    out: list[dict[str, Any]] = []
    for _name, doc in docs:
        found = doc.get("findings") if isinstance(doc, dict) else None
        if isinstance(found, list):
            out.extend(f for f in found if isinstance(f, dict))
    return out


def item_signals(docs: Iterable[tuple[str, dict[str, Any]]]) -> ItemSignals:
    findings = findings_of(list(docs))
    indicating = tuple(
        f for f in findings if f.get("status") == STATUS_INDICATES or f.get("positive_proof")
    )
    return ItemSignals(
        analysed=bool(findings),
        indicating=indicating,
        no_sign=sum(1 for f in findings if f.get("status") == STATUS_NO_EVIDENCE),
        failed=sum(1 for f in findings if f.get("status") == STATUS_FAILED),
    )


def status_word(t: Translate, status: str) -> str:
    """A finding's status in the report's language (the stored word never printed)."""
    known = (STATUS_INDICATES, STATUS_NO_EVIDENCE, STATUS_INFO, STATUS_NOT_APPLICABLE,
             STATUS_FAILED)  # fmt: skip
    return t(f"status.{status}") if status in known else t("status.other")


def signal_name(t: Translate, signal: str) -> str:
    """A signal's name for people: its own entry, else its family's, else the id."""
    family = signal.split(".", 1)[0].split("[", 1)[0]
    for key in (f"signal_name.{signal}", f"family.{family}.title"):
        text = t(key)
        if text != key:
            return text
    return signal


def percent(value: float) -> str:
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text} %"


def rate_words(t: Translate, rates: Any) -> str:
    """The measured false-positive rate as a sentence, or that it was not measured."""
    if not isinstance(rates, dict) or rates.get("fpr_untouched") is None:
        return t("rate.not_measured")
    n = rates.get("n_neg")
    fpr = float(rates["fpr_untouched"])
    bound = rates.get("fpr_upper_95")
    false_pos = round(fpr * int(n)) if isinstance(n, (int, float)) else "?"
    ci = rates.get("fpr_ci95")
    if rates.get("held_back") and isinstance(ci, list) and len(ci) == 2:
        return t(
            "rate_held.measured",
            n=n if n is not None else "?",
            k=false_pos,
            fpr=percent(fpr),
            lo=percent(float(ci[0])),
            hi=percent(float(ci[1])),
        )
    text = t("rate.measured", n=n if n is not None else "?", k=false_pos, fpr=percent(fpr))
    if bound is not None:
        text += " " + t("rate.bound", bound=percent(float(bound)))
    return text


def human_value(value: Any, limit: int = 300) -> str:
    """A stored value as a person reads it: lists joined, mappings as 'key: value', numbers
    rounded, never Python's repr."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, (list, tuple)):
        text = ", ".join(human_value(v, limit) for v in value) or "—"
    elif isinstance(value, dict):
        text = "; ".join(f"{k}: {human_value(v, limit)}" for k, v in value.items()) or "—"
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def is_withheld(name: str) -> bool:
    low = name.lower()
    return any(word in low for word in WITHHELD_WORDS)


def withhold(record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of a metadata record without positions, serial numbers and owner names, and the
    names of what was left out (the record itself is attached to the PDF unchanged)."""
    removed: list[str] = []

    def clean(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            kept = {}
            for k, v in value.items():
                where = f"{path}.{k}" if path else str(k)
                if is_withheld(str(k)) and v not in (None, "", [], {}):
                    removed.append(where)
                    continue
                kept[k] = clean(v, where)
            return kept
        return value

    return clean(record, ""), removed
