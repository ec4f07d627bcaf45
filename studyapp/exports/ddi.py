"""The DDI-Codebook 2.5 description of a deposit (``ddi-codebook.xml``), as data archives ingest it.

Structure (DDI-Codebook 2.5, namespace ``ddi:codebook:2_5``; elements in the order the schema
requires): ``codeBook`` > ``docDscr`` (who made this document and when), ``stdyDscr`` (citation with
title and ID, abstract, time period, the waves as collection events, method, access terms),
``fileDscr`` per data file (file name, contents, dimensions, type), ``dataDscr`` (a ``varGrp`` per
scale or facet and per questionnaire section, then a ``var`` per column with its labels and question
text in Dutch and English, the waves it was asked in, categories with value labels and counts, the
system-missing code, and reverse keying).

Written with the standard library's ElementTree: no run-time dependency beyond Python.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from studyapp.exports.deposit_model import LANGUAGES, DepositMetadata, DepositVariable

NAMESPACE = "ddi:codebook:2_5"
SCHEMA_LOCATION = "ddi:codebook:2_5 http://www.ddialliance.org/Specification/DDI-Codebook/2.5/XMLSchema/codebook.xsd"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FILE_NAME = "ddi-codebook.xml"

#: DDI measurement levels for the variables' measures
_INTERVAL = {"nominal": "discrete", "ordinal": "discrete", "scale": "contin"}
_KIND_NOTE = {
    "scale": "rating scale item",
    "choice": "single-choice item",
    "number": "number item",
    "text": "free-text item",
    "id": "identifier (pseudonym)",
    "meta": "response information",
}


def _q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    """A child element in the DDI namespace; the attribute ``lang`` becomes ``xml:lang``."""
    element = ET.SubElement(parent, _q(tag), {XML_LANG if k == "lang" else k: v for k, v in attributes.items()})
    if text is not None:
        element.text = text
    return element


def xml_id(prefix: str, name: str) -> str:
    """A valid ``xs:ID`` for ``name``: letters, digits, ``_``, ``-`` and ``.``, after ``prefix``."""
    return prefix + re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _texts(parent: ET.Element, tag: str, texts: Mapping[str, str], **attributes: str) -> None:
    """One element per language that has a text (Dutch first, as the instruments are written)."""
    for language in LANGUAGES:
        text = texts.get(language)
        if text:
            _sub(parent, tag, text, lang=language, **attributes)


def _date(value: Any) -> str:
    return value.date().isoformat()


def codebook_xml(meta: DepositMetadata, codebook: Mapping[str, Any]) -> bytes:
    """The DDI-Codebook 2.5 document for a deposit, as UTF-8 bytes with an XML declaration.

    ``codebook`` is the export's JSON codebook (:func:`studyapp.exports.writers.codebook_dict`'s form),
    whose counts become the categories' frequencies and each variable's valid and missing counts.
    """
    ET.register_namespace("", NAMESPACE)
    ET.register_namespace("xsi", XSI)
    study_id = xml_id("study-", meta.study_slug)
    root = ET.Element(
        _q("codeBook"),
        {
            "version": "2.5",
            "ID": xml_id("codebook-", meta.study_slug),
            XML_LANG: meta.language,
            f"{{{XSI}}}schemaLocation": SCHEMA_LOCATION,
        },
    )
    _doc_description(root, meta)
    _study_description(root, meta, study_id)
    for number, data_file in enumerate(meta.files, start=1):
        file_dscr = _sub(root, "fileDscr", ID=f"F{number}", URI=data_file.name)
        text = _sub(file_dscr, "fileTxt")
        _sub(text, "fileName", data_file.name)
        _sub(text, "fileCont", data_file.description)
        dimensions = _sub(text, "dimensns")
        _sub(dimensions, "caseQnty", str(meta.n_responses))
        _sub(dimensions, "varQnty", str(len(meta.variables)))
        _sub(text, "fileType", data_file.media_type)
    _data_description(root, meta, codebook, " ".join(f"F{n}" for n in range(1, len(meta.files) + 1)))
    ET.indent(root, space="  ")
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"
    )


def _doc_description(root: ET.Element, meta: DepositMetadata) -> None:
    doc = _sub(root, "docDscr")
    citation = _sub(doc, "citation")
    titles = _sub(citation, "titlStmt")
    _sub(titles, "titl", f"DDI codebook of: {meta.study_name}")
    production = _sub(citation, "prodStmt")
    _sub(production, "prodDate", _date(meta.created_at), date=_date(meta.created_at))
    _sub(production, "software", "Bridge the Gap study framework (studyapp)")


def _study_description(root: ET.Element, meta: DepositMetadata, study_id: str) -> None:
    study = _sub(root, "stdyDscr")
    citation = _sub(study, "citation")
    titles = _sub(citation, "titlStmt")
    _sub(titles, "titl", meta.study_name)
    _sub(titles, "IDNo", meta.study_slug, agency="studyapp")
    responsibility = _sub(citation, "rspStmt")
    _sub(responsibility, "AuthEnty", "[principal investigator: to be filled in before deposit]")
    info = _sub(study, "stdyInfo")
    subject = _sub(info, "subject")
    _sub(subject, "keyword", "professional identity")
    _sub(subject, "keyword", "longitudinal study")
    _sub(info, "abstract", meta.description or meta.study_name)
    summary = _sub(info, "sumDscr")
    dated = [w for w in meta.waves if w.opens_at is not None]
    if dated:
        start = _date(min(w.opens_at for w in dated if w.opens_at))
        _sub(summary, "timePrd", start, event="start", date=start)
        ends = [w.closes_at for w in meta.waves if w.closes_at is not None]
        if ends:
            _sub(summary, "timePrd", _date(max(ends)), event="end", date=_date(max(ends)))
    for wave in meta.waves:  # each wave is a data collection event
        if wave.opens_at is not None:
            _sub(summary, "collDate", _date(wave.opens_at), event="start", date=_date(wave.opens_at), cycle=wave.name)
        if wave.closes_at is not None:
            _sub(summary, "collDate", _date(wave.closes_at), event="end", date=_date(wave.closes_at), cycle=wave.name)
    _sub(summary, "nation", "Netherlands", abbr="NL")
    _sub(summary, "anlyUnit", "Individual: one row per participant (pseudonym) and wave")
    _sub(summary, "dataKind", "survey data (panel)")
    method = _sub(study, "method")
    collection = _sub(method, "dataColl")
    _sub(collection, "timeMeth", "Longitudinal: panel")
    _sub(collection, "collMode", "Self-administered web questionnaire (CAWI); some answers imported")
    _sub(collection, "resInstru", "; ".join(meta.instruments))
    _sub(
        collection,
        "weight",
        "attrition_weight: "
        + (meta.weights_source or "no analysis yet, the column is empty")
        + " (see the variable's label)",
    )
    _sub(
        method,
        "notes",
        "Participants are known only by a keyed pseudonym (HMAC-SHA-256 with a key that is not deposited); "
        "names, e-mail addresses, personal links and enrolment identifiers never enter a deposit. "
        + (
            "Free-text answers are included."
            if meta.include_text
            else "Free-text answers are left out: " + (", ".join(meta.left_out_text_items) or "none in the instrument")
        )
        + (" Only submitted responses." if meta.submitted_only else " Started but unsubmitted responses included."),
    )
    access = _sub(study, "dataAccs")
    use = _sub(access, "useStmt")
    _sub(use, "conditions", "[licence: to be chosen before deposit, e.g. CC BY 4.0 or DANS restricted access]")
    _sub(use, "disclaimer", "Pseudonymised personal data: re-identification is not allowed.")


def _variable_groups(data: ET.Element, variables: Sequence[DepositVariable], ids: Mapping[str, str]) -> None:
    groups: dict[str, tuple[str, str, dict[str, str], list[str]]] = {}
    for variable in variables:
        if variable.group is not None:
            entry = groups.setdefault(
                xml_id(f"{variable.group.kind}-", variable.group.code),
                (variable.group.kind, variable.group.code, variable.group.name, []),
            )
            entry[3].append(ids[variable.name])
    sections: dict[str, tuple[dict[str, str], list[str]]] = {}
    for variable in variables:
        if variable.is_item and variable.section:
            sections.setdefault(variable.section, (variable.section_title, []))[1].append(ids[variable.name])
    for group_id, (kind, code, name, members) in groups.items():
        group = _sub(data, "varGrp", ID=group_id, type="subject", var=" ".join(members), name=code)
        _texts(group, "labl", name)
        _sub(
            group,
            "txt",
            f"{'Scale' if kind == 'scale' else 'Identity facet'} {code}: the mean of its items, each "
            "reverse-keyed item (see its notes) scored as minimum + maximum - answer",
        )
        _sub(group, "concept", kind)
    for section, (title, members) in sections.items():
        group = _sub(
            data, "varGrp", ID=xml_id("section-", section), type="section", var=" ".join(members), name=section
        )
        _texts(group, "labl", title or {"en": section})


def _data_description(root: ET.Element, meta: DepositMetadata, codebook: Mapping[str, Any], files: str) -> None:
    data = _sub(root, "dataDscr")
    ids = {v.name: xml_id("V-", v.name) for v in meta.variables}
    _variable_groups(data, meta.variables, ids)
    described = {entry["name"]: entry for entry in codebook.get("variables", [])}
    for variable in meta.variables:
        entry = described.get(variable.name, {})
        # the CSV file's column name; the SPSS file's name, where it differs, is in the notes
        attributes = {"ID": ids[variable.name], "name": variable.name, "files": files}
        if variable.kind != "text" and variable.kind != "id" and variable.measure:
            attributes["intrvl"] = _INTERVAL[variable.measure]
        var = _sub(data, "var", **attributes)
        if variable.group is not None:
            var.set("nature", "ordinal" if variable.kind == "scale" else "nominal")
        _texts(var, "labl", variable.label)
        if variable.is_item:
            question = _sub(var, "qstn", ID=xml_id("Q-", variable.name))
            _texts(question, "qstnLit", variable.label)
            if variable.waves:
                _sub(question, "ivuInstr", "Asked in: " + "; ".join(variable.waves))
        if variable.min_value is not None or variable.max_value is not None:
            ranges = _sub(var, "valrng")
            bounds = {}
            if variable.min_value is not None:
                bounds["min"] = str(variable.min_value)
            if variable.max_value is not None:
                bounds["max"] = str(variable.max_value)
            _sub(ranges, "range", **bounds)
        descriptives = entry.get("descriptives", {})
        if "n_answered" in descriptives:
            _sub(var, "sumStat", str(descriptives["n_answered"]), type="vald")
            _sub(var, "sumStat", str(descriptives["n_missing"]), type="invd")
        for statistic, ddi_type in (("mean", "mean"), ("sd", "stdev"), ("min", "min"), ("max", "max")):
            value = descriptives.get(statistic)
            if isinstance(value, int | float) and not isinstance(value, bool):
                _sub(var, "sumStat", str(value), type=ddi_type)
        _sub(var, "txt", _KIND_NOTE[variable.kind] + (" (reverse-keyed)" if variable.reverse else ""))
        counts = {int(v["value"]): int(v["count"]) for v in entry.get("value_labels", [])}
        for value, labels in sorted(variable.value_labels.items()):
            category = _sub(var, "catgry")
            _sub(category, "catValu", str(value))
            _texts(category, "labl", labels)
            _sub(category, "catStat", str(counts.get(value, 0)), type="freq")
        if variable.is_item or variable.name in _MAY_BE_EMPTY:
            category = _sub(var, "catgry", missing="Y", missType="system")
            _sub(category, "catValu", "")
            _sub(
                category,
                "labl",
                "System missing: empty cell (not asked in this wave, not answered, or not submitted)",
                lang="en",
            )
            _sub(
                category,
                "labl",
                "Systeem-missend: lege cel (niet gevraagd in deze golf, niet beantwoord of niet ingeleverd)",
                lang="nl",
            )
        if variable.group is not None:
            _sub(var, "concept", f"{variable.group.kind}: {variable.group.code}", vocab="studyapp")
        _sub(
            var,
            "varFormat",
            type="character" if variable.kind in ("text", "id") or variable.name in _CHARACTER else "numeric",
            schema="other",
        )
        notes = [("kind", variable.kind), ("measure", str(variable.measure))]
        if variable.is_item:
            notes.append(("section", variable.section))
            notes.append(("reverse keyed", "yes" if variable.reverse else "no"))
            notes.append(("waves", "; ".join(variable.waves) or "none"))
        if variable.group is not None:
            notes.append((variable.group.kind, variable.group.code))
        if entry.get("spss_name") and entry["spss_name"] != variable.name:
            notes.append(("SPSS name", entry["spss_name"]))
        for kind, note in notes:
            _sub(var, "notes", note, type=kind)


#: fixed columns that may be empty (not submitted; no attrition weight)
_MAY_BE_EMPTY = frozenset({"submitted_at", "attrition_weight"})
#: fixed columns held as text in the data files
_CHARACTER = frozenset({"pseudonym", "cohort", "wave", "source", "language", "started_at", "submitted_at"})
