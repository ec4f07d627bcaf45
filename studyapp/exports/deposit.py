"""Archive-ready deposits: a BagIt bag of a study, cohort or wave for a trusted archive (DANS).

Built on the ordinary export (:func:`studyapp.exports.service.write_export`): its wide CSV (plain
UTF-8, text as given), SPSS ``.sav`` and JSON codebook go into the bag's payload, beside

- ``ddi-codebook.xml``: DDI-Codebook 2.5 (:mod:`studyapp.exports.ddi`), question texts in Dutch and
  English, value labels, missing-value code, waves, scales and facets, reverse keying;
- ``datapackage.json``: a Frictionless Data Package with the CSV's Table Schema and
  ``dataverse-citation.json``: citation metadata for a Dataverse (DANS Data Station) deposit
  (:mod:`studyapp.exports.datapackage`);
- ``README.md``: study, waves, instrument versions, pseudonymisation, what was left out, licence
  placeholder.

The bag (``bagit.make_bag``) has SHA-256 and SHA-512 manifests and a ``bag-info.txt`` whose source
organisation and contact are placeholders: nobody's name or e-mail address is written by the app, not
even the requesting researcher's (their account is in the audit log); participants' identities, personal
links and enrolment identifiers are never read. Free-text answers are left out unless asked for.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import bagit
from flask_babel import gettext as _
from sqlmodel import Session, col, select

from studyapp.core import audit
from studyapp.core.models import Facet, Instrument, InstrumentSection, Item, User, Wave, key
from studyapp.core.types import utcnow
from studyapp.exports import datapackage, ddi
from studyapp.exports.deposit_model import (
    DepositFile,
    DepositMetadata,
    DepositVariable,
    DepositWave,
    Group,
)
from studyapp.exports.service import ExportScope, count_responses, scope_selection, write_export
from studyapp.exports.writers import FILE_NAMES, fixed_variables

#: The export formats a deposit holds (archive-preferred: CSV in UTF-8 and SPSS), and its metadata files.
#: (Not the HTML codebook: its style sheet's ``@media`` rule would be the one '@' in a deposit, whose files
#: are checked to hold none; the DDI file and the JSON codebook say all it says.)
DATA_FORMATS = ("wide_csv", "sav", "codebook_json")
README_FILE = "README.md"
BAG_CHECKSUMS = ("sha256", "sha512")


class DepositError(ValueError):
    """A deposit cannot be made (an empty scope); the message says why, for the researcher."""


def _group(facet: Facet | None) -> Group | None:
    if facet is None:
        return None
    return Group(code=facet.code, kind=facet.kind, domain=facet.domain, name=dict(facet.name))


def _item_variables(
    session: Session, waves: Sequence[Wave], cohort_names: dict[int, str], include_text: bool
) -> tuple[list[DepositVariable], list[str]]:
    """The items of the waves' instruments in questionnaire order (by code, as the export), in both
    languages, with the waves that ask each; and the codes of the free-text items left out."""
    instrument_ids = sorted({w.instrument_id for w in waves})
    asked: dict[str, list[str]] = {}
    rows = session.exec(
        select(Item, InstrumentSection, Facet)
        .join(InstrumentSection, col(InstrumentSection.id) == Item.section_id)
        .outerjoin(Facet, col(Facet.id) == Item.facet_id)
        .where(col(Item.instrument_id).in_(instrument_ids))
        .order_by(col(Item.instrument_id), col(InstrumentSection.position), col(Item.position))
    ).all()
    by_instrument: dict[int, set[str]] = {}
    for item, _section, _facet in rows:
        by_instrument.setdefault(item.instrument_id, set()).add(item.code)
    for wave in waves:
        for code in by_instrument.get(wave.instrument_id, ()):
            asked.setdefault(code, []).append(f"{cohort_names[wave.cohort_id]} · {wave.label}")
    variables: dict[str, DepositVariable] = {}
    left_out: list[str] = []
    for item, section, facet in rows:
        if item.code in variables or item.code in left_out:
            continue
        if item.type == "text" and not include_text:
            left_out.append(item.code)
            continue
        labelled = item.type in ("scale", "choice")
        variables[item.code] = DepositVariable(
            name=item.code,
            kind=item.type,
            label=dict(item.text),
            measure={"scale": "ordinal", "number": "scale"}.get(item.type, "nominal"),
            value_labels={int(o["value"]): dict(o["label"]) for o in item.options} if labelled else {},
            section=section.code,
            section_title=dict(section.title),
            group=_group(facet),
            reverse=item.reverse,
            min_value=item.min_value,
            max_value=item.max_value,
            waves=tuple(asked.get(item.code, ())),
        )
    return list(variables.values()), left_out


def _fixed_variables() -> list[DepositVariable]:
    english = fixed_variables("en")
    dutch = {v.name: v.label for v in fixed_variables("nl")}
    return [
        DepositVariable(name=v.name, kind=v.kind, label={"nl": dutch[v.name], "en": v.label}, measure=str(v.measure))
        for v in english
    ]


def _readme(meta: DepositMetadata, files: dict[str, str]) -> str:
    """The deposit's README (Markdown, English: the archive's working language for the SSH domain)."""
    lines = [
        f"# {meta.study_name}: research data deposit",
        "",
        *([meta.description, ""] if meta.description else []),
        f"Made on {meta.created_at.strftime('%Y-%m-%d %H:%M UTC')} by the Bridge the Gap study framework "
        f"(study `{meta.study_slug}`).",
        "",
        "## Waves",
        "",
        "| cohort | wave | number | instrument | opened | closed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for wave in meta.waves:
        opened = wave.opens_at.date().isoformat() if wave.opens_at else "per participant"
        closed = wave.closes_at.date().isoformat() if wave.closes_at else "per participant"
        cells = [wave.cohort, wave.label, str(wave.position), wave.instrument, opened, closed]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += [
        "",
        f"Instrument version(s): {', '.join(meta.instruments)}. Question texts are in Dutch and English "
        "(ddi-codebook.xml); labels in the data files are in " + ("Dutch." if meta.language == "nl" else "English."),
        "",
        f"{meta.n_responses} responses (rows) of {meta.n_pseudonyms} participants; {len(meta.variables)} variables.",
        "",
        "## Files",
        "",
        *[f"- `data/{name}`: {description}" for name, description in files.items()],
        "- `manifest-sha256.txt`, `manifest-sha512.txt`, `bagit.txt`, `bag-info.txt`: the BagIt bag "
        "(RFC 8493); check it with `bagit.py --validate`.",
        "",
        "## Pseudonymisation",
        "",
        "Participants are known only by a pseudonym: a keyed hash (HMAC-SHA-256) of the study and the person, "
        "made with a key that stays on the study's server and is not part of this deposit; the same in every "
        "wave. Names, e-mail addresses, personal links, "
        "enrolment identifiers and the enrolment list's frame variables are stored apart from the research "
        "data and never enter a deposit.",
        "",
        "## Suppression and selection",
        "",
        "- "
        + (
            "Free-text answers are included (the researcher chose so); check them for names before publishing."
            if meta.include_text
            else "Free-text answers are left out, as they may identify people: "
            + (", ".join(f"`{code}`" for code in meta.left_out_text_items) or "(none in these instruments)")
            + "."
        ),
        "- "
        + (
            "Only submitted responses are included."
            if meta.submitted_only
            else "Responses that were started but not submitted are included (`submitted` = 0)."
        ),
        "- No cells are suppressed in these microdata: access is governed by the licence below.",
        "- Missing values are empty cells in the CSV file and system-missing in the SPSS file: not asked in "
        "that wave, not answered, or not submitted. There are no other missing-value codes.",
        "- CSV text is written exactly as given (no apostrophe before text that begins with a formula sign): "
        "open the file in a spreadsheet with care.",
        "",
        "## Licence",
        "",
        "[To be chosen before deposit, e.g. CC BY 4.0 or the archive's restricted-access licence.]",
        "",
        "## Citation metadata",
        "",
        "`dataverse-citation.json` holds the citation block for a Dataverse (DANS Data Station) deposit. "
        "Authors, contact and licence are placeholders in square brackets: fill them in before depositing.",
        "",
    ]
    return "\n".join(lines)


def _metadata(
    session: Session, scope: ExportScope, meta: dict[str, str], n_responses: int, n_pseudonyms: int
) -> DepositMetadata:
    cohorts, waves = scope_selection(session, scope)
    cohort_names = {key(c): c.name for c in cohorts}
    instruments = {
        key(i): i
        for i in session.exec(select(Instrument).where(col(Instrument.id).in_({w.instrument_id for w in waves}))).all()
    }
    items, left_out = _item_variables(session, waves, cohort_names, scope.include_text)
    prefix = scope.study.slug
    return DepositMetadata(
        study_name=scope.study.name,
        study_slug=scope.study.slug,
        description=scope.study.description,
        instruments=sorted({f"{i.code} {i.version}" for i in instruments.values()}),
        waves=[
            DepositWave(
                cohort=cohort_names[w.cohort_id],
                label=w.label,
                position=w.position,
                instrument=f"{instruments[w.instrument_id].code} {instruments[w.instrument_id].version}",
                opens_at=w.opens_at,
                closes_at=w.closes_at,
            )
            for w in waves
        ],
        variables=[*_fixed_variables(), *items],
        files=[
            DepositFile(
                FILE_NAMES["wide_csv"].format(prefix=prefix), "text/csv", "CSV (UTF-8), one row per pseudonym and wave"
            ),
            DepositFile(
                FILE_NAMES["sav"].format(prefix=prefix),
                "application/x-spss-sav",
                "SPSS system file, the same rows and columns with variable and value labels",
            ),
        ],
        created_at=utcnow(),
        language=scope.language,
        n_responses=n_responses,
        n_pseudonyms=n_pseudonyms,
        include_text=scope.include_text,
        submitted_only=scope.submitted_only,
        left_out_text_items=left_out,
        weights_source=meta.get("attrition_weights", ""),
    )


def _bag_info(meta: DepositMetadata) -> dict[str, str]:
    return {
        "Source-Organization": "[organisation: to be filled in before deposit]",
        "Contact-Name": "[data steward of the study: to be filled in before deposit]",
        "External-Description": f"{meta.study_name}: pseudonymised panel data ({', '.join(meta.instruments)})",
        "External-Identifier": meta.study_slug,
        "Bagging-Date": meta.created_at.date().isoformat(),
        "Bag-Group-Identifier": meta.study_slug,
    }


def make_deposit(
    *,
    session: Session,
    reader: Session | None = None,
    scope: ExportScope,
    folder: Path,
    user: User | None = None,
    ip_address: str = "",
) -> Path:
    """Write the scope's deposit as a BagIt bag in ``folder`` (created; must not exist or be empty) and
    audit-log it; returns the bag's folder.

    Raises :class:`DepositError` when the scope holds no responses. ``scope.include_text`` says whether
    free-text answers go in (an archive deposit leaves them out by default: the caller decides).
    """
    source = reader or session
    n_responses = count_responses(source, scope)
    if n_responses == 0:
        raise DepositError(_("There are no responses to deposit in this selection of cohorts and waves."))
    if folder.exists() and any(folder.iterdir()):
        raise DepositError(_("The folder %(folder)s is not empty.", folder=str(folder)))
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        n_written, export_meta, n_answers = _write_bag(source, scope, folder)
    except BaseException:
        # no half-made bag left behind: the folder's contents are ours (it was new or empty)
        for path in list(folder.iterdir()):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        if created:
            folder.rmdir()
        raise
    audit.record(
        session=session,
        action="data.exported",
        user=user,
        actor="cli" if user is None else "",
        target_type="study",
        target_id=scope.study.id,
        ip_address=ip_address,
        detail={
            "formats": ["deposit"],
            "scope": export_meta["scope"],
            "language": scope.language,
            "responses": n_written,
            "answers": n_answers,
            "include_text": scope.include_text,
            "submitted_only": scope.submitted_only,
        },
    )
    return folder


def _write_bag(source: Session, scope: ExportScope, folder: Path) -> tuple[int, dict[str, str], int]:
    """The payload files in ``folder``, then the bag made of it; returns the counts and the export's metadata."""
    written, export_meta = write_export(
        source=source, scope=scope, folder=folder, formats=DATA_FORMATS, raw_text=True, bom=False
    )
    codebook: dict[str, Any] = json.loads(written.paths["codebook_json"].read_text(encoding="utf-8"))
    meta = _metadata(source, scope, export_meta, written.n_responses, int(codebook["summary"]["n_pseudonyms"]))
    csv_name = written.paths["wide_csv"].name
    described = {
        csv_name: "the data: one row per pseudonym and wave, CSV in UTF-8 (Table Schema in datapackage.json)",
        written.paths["sav"].name: "the same data as an SPSS system file with variable and value labels",
        written.paths["codebook_json"].name: "codebook with descriptives per variable and wave (JSON)",
        ddi.FILE_NAME: "DDI-Codebook 2.5: study, files and every variable in Dutch and English",
        datapackage.PACKAGE_FILE: "Frictionless Data Package with the CSV file's Table Schema",
        datapackage.DATAVERSE_FILE: "citation metadata for a Dataverse (DANS Data Station) deposit",
        README_FILE: "this file",
    }
    (folder / ddi.FILE_NAME).write_bytes(ddi.codebook_xml(meta, codebook))
    others = {name: text for name, text in described.items() if name not in (csv_name, datapackage.PACKAGE_FILE)}
    (folder / datapackage.PACKAGE_FILE).write_text(
        json.dumps(datapackage.datapackage_dict(meta, csv_name, others), ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    (folder / datapackage.DATAVERSE_FILE).write_text(
        json.dumps(datapackage.dataverse_citation(meta), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (folder / README_FILE).write_text(_readme(meta, described), encoding="utf-8", newline="\n")
    bagit.make_bag(str(folder), bag_info=_bag_info(meta), checksums=list(BAG_CHECKSUMS))
    return written.n_responses, export_meta, written.n_answers


def deposit_zip(
    *,
    session: Session,
    reader: Session | None = None,
    scope: ExportScope,
    user: User | None = None,
    ip_address: str = "",
) -> IO[bytes]:
    """The deposit's bag as one zip archive (a folder ``{slug}-deposit/`` inside), in a temporary file
    read from its start and deleted when closed (as :func:`studyapp.exports.service.export_zip`)."""
    archive_file = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it once sent)
    try:
        with tempfile.TemporaryDirectory(prefix="studyapp-deposit-") as scratch:
            name = f"{scope.study.slug}-deposit"
            bag = make_deposit(
                session=session,
                reader=reader,
                scope=scope,
                folder=Path(scratch) / name,
                user=user,
                ip_address=ip_address,
            )
            with zipfile.ZipFile(archive_file, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(bag.rglob("*")):
                    if path.is_file():
                        archive.write(path, arcname=f"{name}/{path.relative_to(bag).as_posix()}")
            shutil.rmtree(bag)
    except BaseException:
        archive_file.close()
        raise
    archive_file.seek(0)
    return archive_file


__all__ = ["DATA_FORMATS", "DepositError", "deposit_zip", "make_deposit"]
