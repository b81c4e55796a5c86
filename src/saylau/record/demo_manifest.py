"""A small kz-2022-shaped manifest for the demo and the tests: the real ballot, a few regions.

The ballot is the 20 November 2022 one (six candidates and "against all", vote for exactly one, names
from ``scenarios/kz-2022.md``); the geography is a handful of real regions with a few stations each,
plus one station abroad. The full national geography comes from the administration's scenario.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from saylau.election.manifest import (
    BallotStyle,
    Contest,
    District,
    LocalizedText,
    Manifest,
    PollingStation,
    Region,
    Selection,
)

__all__ = ["KZ2022_SELECTIONS", "demo_manifest"]

_T = LocalizedText

KZ2022_SELECTIONS: tuple[Selection, ...] = (
    Selection(
        selection_id="tokayev", kind="candidate",
        name=_T(kk="Қасым-Жомарт Тоқаев", ru="Касым-Жомарт Токаев", en="Kassym-Jomart Tokayev"),
        nominated_by=_T(kk="Халық коалициясы", ru="Народная коалиция", en="People's coalition"),
    ),
    Selection(
        selection_id="dairabayev", kind="candidate",
        name=_T(kk="Жигули Дайрабаев", ru="Жигули Дайрабаев", en="Zhiguli Dairabayev"),
        nominated_by=_T(kk="«Ауыл» партиясы", ru="Партия «Ауыл»", en="Auyl party"),
    ),
    Selection(
        selection_id="abden", kind="candidate",
        name=_T(kk="Қарақат Әбден", ru="Каракат Абден", en="Karakat Abden"),
        nominated_by=_T.same("National Alliance of Professional Social Workers"),
    ),
    Selection(
        selection_id="kazhyken", kind="candidate",
        name=_T(kk="Мейрам Қажыкен", ru="Мейрам Кажыкен", en="Meiram Kazhyken"),
        nominated_by=_T.same("Amanat commonwealth of trade unions"),
    ),
    Selection(
        selection_id="auesbayev", kind="candidate",
        name=_T(kk="Нұрлан Әуесбаев", ru="Нурлан Ауесбаев", en="Nurlan Auesbayev"),
        nominated_by=_T.same("National Social Democratic Party"),
    ),
    Selection(
        selection_id="tursynbekova", kind="candidate",
        name=_T(kk="Салтанат Тұрсынбекова", ru="Салтанат Турсынбекова", en="Saltanat Tursynbekova"),
        nominated_by=_T.same("Qazaq analary – dasturge zhol"),
    ),
    Selection(
        selection_id="against-all", kind="against_all",
        name=_T(kk="Барлығына қарсымын", ru="Против всех", en="Against all"),
    ),
)

_REGIONS: tuple[tuple[str, LocalizedText, str], ...] = (
    ("astana", _T(kk="Астана", ru="Астана", en="Astana"), "Asia/Almaty"),
    ("almaty-city", _T(kk="Алматы қаласы", ru="город Алматы", en="Almaty city"), "Asia/Almaty"),
    ("shymkent", _T(kk="Шымкент", ru="Шымкент", en="Shymkent"), "Asia/Almaty"),
    ("mangystau", _T(kk="Маңғыстау облысы", ru="Мангистауская область", en="Mangystau"), "Asia/Aqtau"),
    ("west-kazakhstan", _T(kk="Батыс Қазақстан облысы", ru="Западно-Казахстанская область",
                           en="West Kazakhstan"), "Asia/Oral"),
)


def demo_manifest(n_stations: int = 20, election_id: str = "kz-2022-demo") -> Manifest:
    """A manifest with ``n_stations`` stations spread over five regions plus one station abroad."""
    if n_stations < 2:
        raise ValueError("the demo manifest needs at least 2 stations (one abroad)")
    home = n_stations - 1
    regions: list[Region] = []
    nr = len(_REGIONS)
    per_region = [home // nr + (1 if i < home % nr else 0) for i in range(nr)]
    counter = 0
    for (rid, rname, tz), count in zip(_REGIONS, per_region, strict=True):
        if count == 0:
            continue
        stations = []
        for _ in range(count):
            counter += 1
            sid = f"ps-{counter:05d}"
            stations.append(PollingStation(station_id=sid, name=_T.same(f"Polling station {counter}"),
                                           time_zone=tz))
        regions.append(Region(region_id=rid, name=rname, districts=(
            District(district_id=f"{rid}-1", name=_T.same(f"{rname.en} district 1"),
                     stations=tuple(stations)),
        )))
    counter += 1
    regions.append(Region(
        region_id="abroad", name=_T(kk="Шетелде", ru="За рубежом", en="Abroad"),
        districts=(District(district_id="abroad-1", name=_T.same("Embassies"), stations=(
            PollingStation(station_id=f"ps-{counter:05d}", name=_T.same("Embassy in Berlin"),
                           time_zone="Europe/Berlin", abroad=True),
        )),),
    ))
    almaty = timezone(timedelta(hours=6))
    return Manifest(
        election_id=election_id,
        name=_T(
            kk="Қазақстан Республикасы Президентінің кезектен тыс сайлауы, 2022",
            ru="Внеочередные выборы Президента Республики Казахстан, 2022",
            en="Snap presidential election of the Republic of Kazakhstan, 2022",
        ),
        election_date=date(2022, 11, 20),
        voting_opens=datetime(2022, 11, 20, 7, 0, tzinfo=almaty),
        voting_closes=datetime(2022, 11, 20, 21, 0, tzinfo=almaty),
        contests=(Contest(
            contest_id="president",
            name=_T(kk="Қазақстан Республикасының Президенті", ru="Президент Республики Казахстан",
                    en="President of the Republic of Kazakhstan"),
            votes_allowed=1,
            selections=KZ2022_SELECTIONS,
        ),),
        ballot_styles=(BallotStyle(style_id="national", contest_ids=("president",)),),
        regions=tuple(regions),
    )
