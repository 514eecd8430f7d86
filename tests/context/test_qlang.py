"""The NGSI-LD query language: parsing `q` and running it as SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.engine import Engine

from cityops.context.qlang import (
    CORE_KEYS,
    And,
    AttrPath,
    Compare,
    Exists,
    Or,
    Pattern,
    QSyntaxError,
    Range,
    Value,
    ValueList,
    normalize_datetime,
    parse_q,
)
from cityops.context.qlang_sql import compile_q
from cityops.core.db import JSONType, make_engine

SDM = "https://smartdatamodels.org/"
ENV = SDM + "dataModel.Environment/"
DEVICE = SDM + "dataModel.Device/"
CONTEXT = {
    "pm25": ENV + "pm25",
    "pm10": ENV + "pm10",
    "NO2": ENV + "NO2",
    "refDevice": ENV + "refDevice",
    "dateObserved": ENV + "dateObserved",
    "waterLevel": ENV + "waterLevel",
    "alertThreshold": ENV + "alertThreshold",
    "isFlooded": ENV + "isFlooded",
    "alertLevel": ENV + "alertLevel",
    "category": SDM + "category",
    "name": SDM + "name",
    "address": SDM + "address",
    "measurementSpec": ENV + "measurementSpec",
    "batteryLevel": DEVICE + "batteryLevel",
    "location": "https://uri.etsi.org/ngsi-ld/location",
}

# A tiny @context: known terms, full IRIs as they are, the rest in the default vocabulary.
expand = lambda term: CONTEXT.get(  # noqa: E731
    term, term if ":" in term else "https://uri.etsi.org/ngsi-ld/default-context/" + term
)


def prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def rel(obj: str) -> dict[str, Any]:
    return {"type": "Relationship", "object": obj}


def lang(**names: str) -> dict[str, Any]:
    return {"type": "LanguageProperty", "languageMap": names}


def address(locality: str) -> dict[str, Any]:
    return prop({"addressLocality": locality, "addressRegion": "Lâm Đồng", "addressCountry": "VN"})


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


AQ = "urn:ngsi-ld:AirQualityObserved:"
FLOOD = "urn:ngsi-ld:FloodMonitoring:"
ENTITIES: dict[str, dict[str, Any]] = {
    AQ + "PhanThiet-01": {
        "pm25": prop(35.2, unitCode="GQ", observedAt="2026-11-24T05:00:00Z"),
        "pm10": prop(60, unitCode="GQ"),
        "NO2": prop(18.5, unitCode="GQ"),
        "dateObserved": prop("2026-11-24T05:00:00Z"),
        "refDevice": rel("urn:ngsi-ld:Device:aq-01"),
        "category": prop(["urban", "traffic"]),
        "name": lang(vi="Trạm Phan Thiết", en="Phan Thiet station"),
        "address": address("Phan Thiết"),
        "measurementSpec": prop({"sensor": {"model": "SDS011", "channels": 2}}),
        "location": point(108.1, 10.93),
    },
    AQ + "MuiNe-02": {
        "pm25": prop(72.8, unitCode="GQ", observedAt="2026-11-24T06:30:00.5Z"),
        "pm10": prop(110, unitCode="GQ"),
        "NO2": prop(41, unitCode="GQ"),
        "dateObserved": prop("2026-11-24T06:30:00.5Z"),
        "refDevice": rel("urn:ngsi-ld:Device:aq-02"),
        "category": prop(["industrial"]),
        "name": lang(vi="Trạm Mũi Né", en="Mui Ne station"),
        "address": address("Mũi Né"),
        "location": point(108.29, 10.95),
    },
    AQ + "LaGi-03": {
        "pm25": prop(12, unitCode="GQ", observedAt="2026-11-23T23:00:00Z"),
        "pm10": prop(25, unitCode="GQ"),
        "dateObserved": prop("2026-11-23T23:00:00Z"),
        "refDevice": rel("urn:ngsi-ld:Device:aq-03"),
        "category": prop("suburban"),
        "address": address("La Gi"),
    },
    FLOOD + "CaTy-01": {
        "waterLevel": prop(3.1, unitCode="MTR", alertThreshold=prop(2.5)),
        "isFlooded": prop(True),
        "alertLevel": {"type": "VocabProperty", "vocab": "AlertLevel2"},
    },
    FLOOD + "CaTy-02": {
        "waterLevel": prop(1.2, unitCode="MTR", alertThreshold=prop(2.5)),
        "isFlooded": prop(False),
        "alertLevel": {"type": "VocabProperty", "vocab": "AlertLevel0"},
    },
    "urn:ngsi-ld:Device:aq-01": {"batteryLevel": prop(0.8), "category": prop(["sensor"])},
}


def stored_attribute(attr: dict[str, Any]) -> dict[str, Any]:
    """Expand sub-attribute names (NGSI-LD core members stay short), as the store does."""
    return {
        k if k in CORE_KEYS else expand(k): v if k in CORE_KEYS else stored_attribute(v)
        for k, v in attr.items()
    }


def stored(attrs: dict[str, Any]) -> dict[str, Any]:
    """The attrs column of an entity: attributes keyed by expanded IRI."""
    return {expand(name): stored_attribute(attr) for name, attr in attrs.items()}


probe = Table(
    "qlang_probe",
    MetaData(),
    Column("pk", Integer, primary_key=True),
    Column("id", String(200)),
    Column("attrs", JSONType),
)


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    """A scratch table of Smart Data Models entities on the test database."""
    eng = make_engine(database_url)
    probe.create(eng, checkfirst=True)
    with eng.begin() as conn:
        conn.execute(insert(probe), [{"id": i, "attrs": stored(a)} for i, a in ENTITIES.items()])
    yield eng
    probe.drop(eng)
    eng.dispose()


def ids(engine: Engine, q: str) -> set[str]:
    """Short ids (after the last ':') of the entities that `q` selects."""
    cond = compile_q(
        parse_q(q), attrs_col=probe.c.attrs, expand=expand, dialect=engine.dialect.name
    )
    with engine.connect() as conn:
        return {i.rsplit(":", 1)[-1] for i in conn.scalars(select(probe.c.id).where(cond))}


# ------------------------------------------------------------------------------ parsing


def test_parse_q_builds_a_tree_of_terms() -> None:
    assert parse_q('pm25>35;category=="urban","traffic"|!NO2') == Or(
        (
            And(
                (
                    Compare(AttrPath("pm25"), ">", Value("number", 35)),
                    Compare(
                        AttrPath("category"),
                        "==",
                        ValueList((Value("string", "urban"), Value("string", "traffic"))),
                    ),
                )
            ),
            Exists(AttrPath("NO2"), negated=True),
        )
    )


def test_parse_q_reads_paths_ranges_uris_and_patterns() -> None:
    assert parse_q("waterLevel.alertThreshold==2..3.5") == Compare(
        AttrPath("waterLevel", sub=("alertThreshold",)),
        "==",
        Range(Value("number", 2), Value("number", 3.5)),
    )
    assert parse_q("refDevice==urn:ngsi-ld:Device:aq-01").operand == Value(  # type: ignore[union-attr]
        "uri", "urn:ngsi-ld:Device:aq-01"
    )
    assert parse_q("measurementSpec[sensor][model]").path == AttrPath(  # type: ignore[union-attr]
        "measurementSpec", keys=("sensor", "model")
    )
    assert parse_q("name~=(?i)mũi (né|ne)") == Pattern(AttrPath("name"), "(?i)mũi (né|ne)")
    assert parse_q("name=~x|y") == Or((Pattern(AttrPath("name"), "x"), Exists(AttrPath("y"))))
    assert parse_q('name~="x|y";pm25') == And(
        (Pattern(AttrPath("name"), "x|y"), Exists(AttrPath("pm25")))
    )


def test_parse_q_normalises_datetimes_to_utc() -> None:
    term = parse_q("pm25.observedAt>=2026-11-24T12:00:00+07:00")
    assert term == Compare(
        AttrPath("pm25", sub=("observedAt",)), ">=", Value("datetime", "2026-11-24T05:00:00Z")
    )
    assert normalize_datetime("2026-11-24T05:00:00.500000Z") == "2026-11-24T05:00:00.5Z"


def test_parse_q_accepts_url_decoded_text_and_spaces() -> None:
    assert parse_q(unquote("pm25%3E35%3BNO2%3C40")) == parse_q("pm25 > 35 ; NO2 < 40")


@pytest.mark.parametrize(
    ("q", "position", "expected"),
    [
        ("pm25==", 6, "a value"),
        ("pm25=35", 4, "an operator"),
        ("(pm25>35;NO2<40", 15, "')'"),
        ("pm25>35)", 7, "end of the query"),
        ("name==Phan", 6, "quoted string"),
        ('name=="Phan', 11, "closing '\"'"),
        ("pm25>1,2", 5, "single number"),
        ('pm25==1.."x"', 6, "same kind"),
        ("pm25>=true", 6, "single number"),
        ("name~=(unclosed", 6, "valid regular expression"),
        ("name~=(?P<w>x)", 6, "without named groups"),
        ("dateObserved>2026-13-40T00:00:00Z", 13, "valid date/time"),
        (";pm25", 0, "attribute name"),
        ("pm25.", 5, "sub-attribute name"),
        ("address[locality", 16, "']'"),
        ("", 0, "query term"),
    ],
)
def test_syntax_error_names_the_position(q: str, position: int, expected: str) -> None:
    with pytest.raises(QSyntaxError) as err:
        parse_q(q)
    assert err.value.position == position
    assert expected in str(err.value)
    assert f"at position {position}" in str(err.value)


def test_syntax_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_q("pm25>>5")


# ------------------------------------------------------------------------------ running


def test_q_numeric_comparison_selects_readings_above_threshold(engine: Engine) -> None:
    assert ids(engine, "pm25>35") == {"PhanThiet-01", "MuiNe-02"}
    assert ids(engine, "pm25>=72.8") == {"MuiNe-02"}
    assert ids(engine, "pm25<20") == {"LaGi-03"}


def test_q_integers_and_decimals_compare_as_numbers(engine: Engine) -> None:
    assert ids(engine, "pm25==12") == ids(engine, "pm25==12.0") == {"LaGi-03"}


def test_q_range_selects_readings_between_bounds(engine: Engine) -> None:
    assert ids(engine, "pm25==10..40") == {"PhanThiet-01", "LaGi-03"}
    assert ids(engine, "pm25!=10..40") == {"MuiNe-02"}


def test_q_value_list_matches_any_of_the_values(engine: Engine) -> None:
    assert ids(engine, "NO2==18.5,41") == {"PhanThiet-01", "MuiNe-02"}
    assert ids(engine, "NO2!=18.5,99") == {"MuiNe-02"}


def test_q_missing_attribute_never_matches_even_when_negated(engine: Engine) -> None:
    assert ids(engine, "NO2!=99") == {"PhanThiet-01", "MuiNe-02"}
    assert ids(engine, "noSuchAttribute!=1") == set()


def test_q_compares_only_values_of_the_same_type(engine: Engine) -> None:
    assert ids(engine, 'pm25=="35.2"') == set()
    assert ids(engine, "category>0") == set()


def test_q_relationship_compares_object(engine: Engine) -> None:
    assert ids(engine, "refDevice==urn:ngsi-ld:Device:aq-02") == {"MuiNe-02"}
    assert ids(engine, 'refDevice=="urn:ngsi-ld:Device:aq-01"') == {"PhanThiet-01"}
    assert ids(engine, "refDevice!=urn:ngsi-ld:Device:aq-02") == {"PhanThiet-01", "LaGi-03"}


def test_q_array_value_matches_when_any_element_equals(engine: Engine) -> None:
    assert ids(engine, 'category=="traffic"') == {"PhanThiet-01"}
    assert ids(engine, 'category=="suburban"') == {"LaGi-03"}
    assert ids(engine, 'category!="traffic"') == {"MuiNe-02", "LaGi-03", "aq-01"}
    assert ids(engine, 'category=="industrial","sensor"') == {"MuiNe-02", "aq-01"}


def test_q_language_property_matches_any_language_or_the_one_named(engine: Engine) -> None:
    assert ids(engine, 'name=="Mui Ne station"') == {"MuiNe-02"}
    assert ids(engine, 'name=="Trạm Phan Thiết"') == {"PhanThiet-01"}
    assert ids(engine, 'name[vi]=="Trạm Mũi Né"') == {"MuiNe-02"}
    assert ids(engine, 'name[en]=="Trạm Mũi Né"') == set()


def test_q_structured_value_compares_keys_in_brackets(engine: Engine) -> None:
    assert ids(engine, 'address[addressLocality]=="Phan Thiết"') == {"PhanThiet-01"}
    assert ids(engine, 'measurementSpec[sensor][model]=="SDS011"') == {"PhanThiet-01"}
    assert ids(engine, "measurementSpec[sensor][channels]>=2") == {"PhanThiet-01"}
    assert ids(engine, 'address=="Phan Thiết"') == set()  # a member is not the value


def test_q_sub_attribute_and_unit_code(engine: Engine) -> None:
    assert ids(engine, "waterLevel.alertThreshold==2.5") == {"CaTy-01", "CaTy-02"}
    assert ids(engine, 'waterLevel.unitCode=="MTR";waterLevel>2.5') == {"CaTy-01"}


def test_q_observed_at_compares_instants_in_any_offset(engine: Engine) -> None:
    assert ids(engine, "pm25.observedAt==2026-11-24T12:00:00+07:00") == {"PhanThiet-01"}
    assert ids(engine, "pm25.observedAt>=2026-11-24T06:00:00Z") == {"MuiNe-02"}
    # 06:30:00.5 is after 06:30:00 and before 06:30:00.6 although '.' sorts before 'Z'
    assert ids(engine, "pm25.observedAt>2026-11-24T06:30:00Z") == {"MuiNe-02"}
    assert ids(engine, "pm25.observedAt<2026-11-24T06:30:00.6Z") == {
        "PhanThiet-01",
        "MuiNe-02",
        "LaGi-03",
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("pm25.observedAt<2026-11-24T05:00:00.2Z", {"PhanThiet-01", "LaGi-03"}),
        ("pm25.observedAt>2026-11-24T05:00:00.2Z", {"MuiNe-02"}),
        ("pm25.observedAt>2026-11-24T05:00:00Z", {"MuiNe-02"}),
        ("pm25.observedAt<=2026-11-24T05:00:00Z", {"PhanThiet-01", "LaGi-03"}),
        ("pm25.observedAt>=2026-11-24T06:30:00.5Z", {"MuiNe-02"}),
        ("pm25.observedAt==2026-11-24T06:30:00.500Z", {"MuiNe-02"}),
        ("pm25.observedAt<=2026-11-24T06:30:00.5Z", {"PhanThiet-01", "MuiNe-02", "LaGi-03"}),
        ("pm25.observedAt!=2026-11-24T05:00:00Z", {"MuiNe-02", "LaGi-03"}),
    ],
)
def test_q_datetime_order_respects_fractions_of_a_second(
    engine: Engine, q: str, expected: set[str]
) -> None:
    assert ids(engine, q) == expected


def test_q_datetime_range_selects_one_day(engine: Engine) -> None:
    day = "dateObserved==2026-11-24T00:00:00Z..2026-11-24T23:59:59Z"
    assert ids(engine, day) == {"PhanThiet-01", "MuiNe-02"}


def test_q_boolean_equality(engine: Engine) -> None:
    assert ids(engine, "isFlooded==true") == {"CaTy-01"}
    assert ids(engine, "isFlooded==false") == {"CaTy-02"}
    assert ids(engine, "isFlooded!=true") == {"CaTy-02"}


def test_q_vocab_property_compares_vocab(engine: Engine) -> None:
    assert ids(engine, 'alertLevel=="AlertLevel2"') == {"CaTy-01"}


def test_q_existence_and_non_existence(engine: Engine) -> None:
    assert ids(engine, "NO2") == {"PhanThiet-01", "MuiNe-02"}
    assert ids(engine, "!NO2;pm25") == {"LaGi-03"}
    assert ids(engine, "waterLevel.alertThreshold") == {"CaTy-01", "CaTy-02"}
    assert ids(engine, "name[vi]") == {"PhanThiet-01", "MuiNe-02"}


def test_q_or_binds_looser_than_and(engine: Engine) -> None:
    assert ids(engine, "pm25>70|pm25<20;pm10<20") == {"MuiNe-02"}
    assert ids(engine, "(pm25>70|pm25<20);pm10<30") == {"LaGi-03"}


def test_q_regex_matches_strings_anywhere(engine: Engine) -> None:
    assert ids(engine, "name~=(?i)mũi") == {"MuiNe-02"}
    assert ids(engine, "address[addressLocality]~=^Phan") == {"PhanThiet-01"}
    assert ids(engine, "refDevice~=aq-0[12]$") == {"PhanThiet-01", "MuiNe-02"}
    assert ids(engine, "address[addressLocality]!~=^Phan") == {"MuiNe-02", "LaGi-03"}


def test_q_accepts_full_attribute_iris(engine: Engine) -> None:
    assert ids(engine, f"{ENV}pm25>70") == {"MuiNe-02"}


def test_compile_q_rejects_an_unknown_dialect() -> None:
    with pytest.raises(ValueError, match="dialect"):
        compile_q(parse_q("pm25>1"), attrs_col=probe.c.attrs, expand=expand, dialect="mysql")
