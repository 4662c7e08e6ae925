"""RUT parsing: the canonical form, the inputs accepted and the check digit."""

from __future__ import annotations

import pytest
from cl_sii.rut import Rut
from pydantic import BaseModel, ValidationError

from dtehub.kit.rut import InvalidRut, RutStr, normalize_rut, with_dots


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("76453707-6", "76453707-6"),
        ("76.453.707-6", "76453707-6"),
        (" 76.453.707-6 ", "76453707-6"),
        ("76 453 707-6", "76453707-6"),
        ("764537076", "76453707-6"),
        ("11111112-K", "11111112-K"),
        ("11111112-k", "11111112-K"),
        ("11.111.112-k", "11111112-K"),
        ("11111112k", "11111112-K"),
        ("99999999-9", "99999999-9"),
        ("5126663-3", "5126663-3"),
        ("1-9", "1-9"),
        ("00076453707-6", "76453707-6"),
        ("76453707-6\n", "76453707-6"),
    ],
)
def test_normalize_accepts_the_usual_spellings(given: str, canonical: str) -> None:
    assert normalize_rut(given) == canonical


@pytest.mark.parametrize(
    "given",
    ["76453707-5", "76453707-K", "11111112-1", "99999999-0", "764537075", "11111112-0"],
)
def test_normalize_refuses_a_wrong_check_digit(given: str) -> None:
    with pytest.raises(InvalidRut, match="check digit"):
        normalize_rut(given)


@pytest.mark.parametrize(
    "given",
    [
        "",
        " ",
        "-",
        "k",
        "abc",
        "76453707-",
        "-6",
        "-76453707-6",
        "76453707--6",
        "76453707-66",
        "7645A707-6",
        "76453707-X",
        "76,453,707-6",
        "123456789012345678901234567890-1",
    ],
)
def test_normalize_refuses_what_is_not_a_rut(given: str) -> None:
    with pytest.raises(InvalidRut):
        normalize_rut(given)


@pytest.mark.parametrize("given", ["0-0", "00-0", "0.000.000-0"])
def test_normalize_refuses_rut_zero(given: str) -> None:
    # 0-0 passes the check-digit arithmetic but is never issued (integrators use it for "no RUT").
    with pytest.raises(InvalidRut):
        normalize_rut(given)


@pytest.mark.parametrize("given", ["１２３４５６７８-5", "٧٦٤٥٣٧٠٧-6", "76453707-６"])
def test_normalize_refuses_non_ascii_digits(given: str) -> None:
    # cl-sii's pattern accepts any Unicode digit; stored as given, they would dodge the uniqueness of
    # taxId (１２３４５６７８-5 and 12345678-5 are the same RUT).
    with pytest.raises(InvalidRut):
        normalize_rut(given)


def test_invalid_rut_is_a_value_error() -> None:
    # Pydantic validators turn ValueErrors into 400s; anything else would be a 500.
    assert issubclass(InvalidRut, ValueError)


def test_random_ruts_round_trip() -> None:
    for _ in range(200):
        rut = Rut.random()
        canonical = str(rut.canonical)
        assert normalize_rut(canonical) == canonical
        assert normalize_rut(str(rut.verbose)) == canonical
        assert normalize_rut(canonical.replace("-", "").lower()) == canonical


def test_with_dots() -> None:
    assert with_dots("76453707-6") == "76.453.707-6"
    assert with_dots("11111112-K") == "11.111.112-K"
    assert with_dots("1-9") == "1-9"


class Model(BaseModel):
    rut: RutStr


def test_rut_field_normalizes() -> None:
    assert Model(rut="76.453.707-6").rut == "76453707-6"


def test_rut_field_refuses_a_wrong_rut_with_a_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        Model(rut="76453707-5")

    [error] = caught.value.errors()
    assert error["loc"] == ("rut",)
    assert "check digit" in error["msg"]
