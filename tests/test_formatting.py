"""Numbers written the Dutch or the English way."""

from studyapp.formatting import decimal


def test_decimal_comma_in_dutch_and_point_in_english() -> None:
    assert decimal(6.04, 1, "nl") == "6,0" and decimal(6.04, 1, "en") == "6.0"
    assert decimal(-0.456, 2, "nl", sign=True) == "-0,46" and decimal(0.5, 1, "en", sign=True) == "+0.5"
    assert decimal(None) == "–"
