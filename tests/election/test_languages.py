"""Languages are data: names are a mapping keyed by language code, the languages are the scenario's."""

from pathlib import Path

import pytest

from saylau.election.manifest import LocalizedText, Manifest
from saylau.election.scenario import load_scenario
from saylau.errors import ScenarioError

ALPEN = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "alpen"


def test_a_german_french_scenario_gives_german_french_names() -> None:
    sc = load_scenario(ALPEN)
    assert sc.languages == ["de", "fr"]
    m = sc.to_manifest()
    assert m.languages == ("de", "fr")
    assert m.name.get("fr") == "Élection présidentielle du Pays alpin, 2030"
    sel = {s.selection_id: s for s in m.contests[0].selections}
    assert sel["dagegen"].name.get("de") == "Gegen alle"
    st = {loc.station.station_id: loc.station for loc in m.locations()}
    assert st["ost-0001"].name.get("fr") == "Bureau de vote ost-0001"
    assert m.regions[1].districts[0].name.get("de") == "Osttal, Bezirk 1"
    assert sc.column_language == "de"
    # the JSON form is an object keyed by language code, and it round-trips through the hash
    obj = m.to_json_obj()
    assert obj["name"] == {"de": "Präsidentschaftswahl im Alpenland, 2030",
                           "fr": "Élection présidentielle du Pays alpin, 2030"}
    assert Manifest.from_json_obj(obj).manifest_hash() == m.manifest_hash()


def test_a_language_the_text_lacks_is_a_clear_error() -> None:
    text = LocalizedText.of(de="Ja", fr="Oui")
    with pytest.raises(KeyError, match=r"no 'kk' text .given in de, fr"):
        text.get("kk")


def test_a_name_without_every_language_of_the_manifest_is_refused() -> None:
    obj = load_scenario(ALPEN).to_manifest().to_json_obj()
    del obj["contests"][0]["selections"][1]["name"]["fr"]
    with pytest.raises(ScenarioError, match=r"selection dubois: name lacks the election's language.s. fr"):
        Manifest.from_json_obj(obj)


def test_a_scenario_name_without_one_of_its_languages_is_refused(tmp_path: Path) -> None:
    import shutil

    dst = tmp_path / "alpen"
    shutil.copytree(ALPEN, dst)
    toml = dst / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'name = { de = "Luc Dubois", fr = "Luc Dubois" }', 'name = { de = "Luc Dubois" }'), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"options\.dubois\.name: name lacks the scenario's .* fr"):
        load_scenario(dst)


def test_a_district_without_a_name_in_a_language_is_refused(tmp_path: Path) -> None:
    import shutil

    dst = tmp_path / "alpen"
    shutil.copytree(ALPEN, dst)
    (dst / "districts.csv").write_text(
        "id,region,name_de\nnord-1,nord,Nordtal\nost-1,ost,Osttal\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="district nord-1: no name in fr"):
        load_scenario(dst)


def test_language_codes_are_checked() -> None:
    with pytest.raises(ValueError, match="not a language code"):
        LocalizedText({"Deutsch": "Ja"})
