"""The Frictionless Data Package (``datapackage.json``, a Table Schema per CSV file) and the Dataverse
citation metadata (``dataverse-citation.json``) of a deposit.

Written by hand after the Data Package and Table Schema specifications (v1), so the app needs no
Frictionless library at run time; the tests check the result with ``frictionless validate``.
The Dataverse file is the native API's dataset JSON (``datasetVersion.metadataBlocks.citation``) that a
DANS Data Station accepts; the fields only a person can fill in (authors, contact, licence) hold
placeholders in square brackets, so that nobody's name or e-mail address is ever written by the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from studyapp.exports.deposit_model import DepositMetadata, DepositVariable

PACKAGE_FILE = "datapackage.json"
DATAVERSE_FILE = "dataverse-citation.json"
CSV_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PLACEHOLDER_LICENCE = "[licence: to be chosen before deposit]"

_FIXED_TYPES = {
    "pseudonym": "string",
    "cohort": "string",
    "wave": "string",
    "wave_position": "integer",
    "started_at": "datetime",
    "submitted_at": "datetime",
    "source": "string",
    "language": "string",
    "submitted": "integer",
    "attrition_weight": "number",
}
_ITEM_TYPES = {"scale": "integer", "choice": "integer", "number": "number", "text": "string"}


def table_type(variable: DepositVariable) -> str:
    """The Table Schema type of a column (a number item is ``number``: whole values are numbers too)."""
    if variable.is_item:
        return _ITEM_TYPES[variable.kind]
    return _FIXED_TYPES[variable.name]


def _field(variable: DepositVariable, language: str) -> dict[str, Any]:
    field: dict[str, Any] = {
        "name": variable.name,
        "type": table_type(variable),
        "title": variable.label.get(language) or next(iter(variable.label.values()), variable.name),
        "description": " / ".join(f"{lang}: {text}" for lang, text in variable.label.items() if text),
    }
    if field["type"] == "datetime":
        field["format"] = CSV_TIME_FORMAT
    if variable.value_labels:
        # not an enum constraint: an imported answer may lie outside the labels, and the codebook counts it
        field["valueLabels"] = {
            str(value): labels.get(language) or next(iter(labels.values()), "")
            for value, labels in sorted(variable.value_labels.items())
        }
    if variable.name in ("pseudonym", "cohort", "wave", "wave_position", "submitted"):
        field["constraints"] = {"required": True}
    if variable.is_item:
        field["section"] = variable.section
        field["reverseKeyed"] = variable.reverse
        field["waves"] = list(variable.waves)
        if variable.group is not None:
            field[variable.group.kind] = variable.group.code
    return field


def table_schema(meta: DepositMetadata) -> dict[str, Any]:
    """The Table Schema of the wide CSV file: one field per column, missing values as empty cells."""
    return {
        "fields": [_field(v, meta.language) for v in meta.variables],
        "missingValues": [""],
        "primaryKey": ["pseudonym", "wave", "cohort"],
    }


def datapackage_dict(meta: DepositMetadata, csv_name: str, extra: Mapping[str, str]) -> dict[str, Any]:
    """The ``datapackage.json`` of a deposit: the CSV data file as a tabular resource with its schema.

    ``extra`` names the other payload files (file name -> description); they are listed in the README and
    the bag's manifests, not as resources, since a data package validator reads every resource as data.
    """
    return {
        "profile": "tabular-data-package",
        "name": meta.study_slug.lower(),
        "title": meta.study_name,
        "description": meta.description,
        "created": meta.created_at.strftime(CSV_TIME_FORMAT),
        "licenses": [{"name": "other-at", "title": PLACEHOLDER_LICENCE}],
        "keywords": ["longitudinal", "panel", "pseudonymised"],
        "resources": [
            {
                "name": "responses",
                "path": csv_name,
                "profile": "tabular-data-resource",
                "title": "Responses: one row per pseudonym and wave",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ",", "lineTerminator": "\n", "header": True},
                "schema": table_schema(meta),
            }
        ],
        "otherFiles": dict(extra),
    }


def _primitive(name: str, value: str) -> dict[str, Any]:
    return {"typeName": name, "multiple": False, "typeClass": "primitive", "value": value}


def _compound(name: str, values: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    return {"typeName": name, "multiple": True, "typeClass": "compound", "value": values}


def dataverse_citation(meta: DepositMetadata) -> dict[str, Any]:
    """The Dataverse native-API dataset JSON with the citation block (DANS Data Station SSH).

    Authors and contact are placeholders for the depositor to fill in: the app writes no one's name or
    e-mail address into a deposit (see docs/guide.md).
    """
    starts = [w.opens_at for w in meta.waves if w.opens_at is not None]
    ends = [w.closes_at for w in meta.waves if w.closes_at is not None]
    fields: list[dict[str, Any]] = [
        _primitive("title", meta.study_name),
        _compound("author", [{"authorName": _primitive("authorName", "[principal investigator: to be filled in]")}]),
        _compound(
            "datasetContact",
            [{"datasetContactName": _primitive("datasetContactName", "[data steward of the study: to be filled in]")}],
        ),
        _compound(
            "dsDescription",
            [{"dsDescriptionValue": _primitive("dsDescriptionValue", meta.description or meta.study_name)}],
        ),
        {"typeName": "subject", "multiple": True, "typeClass": "controlledVocabulary", "value": ["Social Sciences"]},
        _compound(
            "keyword",
            [
                {"keywordValue": _primitive("keywordValue", word)}
                for word in ("professional identity", "longitudinal study", "panel survey")
            ],
        ),
        {"typeName": "kindOfData", "multiple": True, "typeClass": "primitive", "value": ["Survey data (panel)"]},
        _primitive("productionDate", meta.created_at.date().isoformat()),
    ]
    if starts and ends:
        fields.append(
            _compound(
                "timePeriodCovered",
                [
                    {
                        "timePeriodCoveredStart": _primitive("timePeriodCoveredStart", min(starts).date().isoformat()),
                        "timePeriodCoveredEnd": _primitive("timePeriodCoveredEnd", max(ends).date().isoformat()),
                    }
                ],
            )
        )
    fields.append(
        _compound(
            "dateOfCollection",
            [
                {
                    "dateOfCollectionStart": _primitive("dateOfCollectionStart", w.opens_at.date().isoformat()),
                    "dateOfCollectionEnd": _primitive("dateOfCollectionEnd", w.closes_at.date().isoformat()),
                }
                for w in meta.waves
                if w.opens_at is not None and w.closes_at is not None
            ],
        )
    )
    fields = [f for f in fields if f.get("value") != []]
    return {
        "datasetVersion": {
            "termsOfUse": PLACEHOLDER_LICENCE,
            "metadataBlocks": {"citation": {"displayName": "Citation Metadata", "fields": fields}},
        }
    }
