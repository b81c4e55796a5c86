"""Generate districts.csv and stations.csv of the kz-2022 scenario from a documented model.

The CEC does not publish a machine-readable station list with sizes, so the station list is modelled
(and shipped, so the scenario stays plain data; re-running this script with the same seed gives the
same files byte for byte):

* stations per region and district commissions per region come from ``[simulation.regions]`` of
  scenario.toml (domestic total 10,033; the five western regions hold 1,831);
* stations are spread over a region's districts with Dirichlet(4) proportions, at least one each;
* a share ``urban`` of a region's stations are town stations; a rural station is on average 0.4 the
  size of a town station; sizes are log-normal around those means (σ 0.3 town, 0.55 rural), scaled so
  the region's expected sizes sum to its modelled voters, clipped to [30, 3000] (3,000 is the legal
  maximum of voters per station);
* districts of the three cities carry their real names; other districts are numbered; abroad, the
  districts are the 53 countries with a station (68 stations; the per-country list below is a model
  of the consular network, not the CEC's list), each station with the IANA zone of its city.

Run: ``python scripts/make_kz2022_stations.py`` (numpy needed); it writes into
``src/saylau/scenarios/kz-2022/``, the scenario shipped inside the package.
"""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1] / "src" / "saylau" / "scenarios" / "kz-2022"
SEED = 20221120

CITY_DISTRICTS = {
    "astana": [
        ("Алматы ауданы", "район Алматы", "Almaty district"),
        ("Байқоңыр ауданы", "район Байконур", "Baikonyr district"),
        ("Есіл ауданы", "район Есиль", "Yesil district"),
        ("Сарыарқа ауданы", "район Сарыарка", "Saryarka district"),
        ("Нұра ауданы", "район Нура", "Nura district"),
    ],
    "almaty": [
        ("Алатау ауданы", "Алатауский район", "Alatau district"),
        ("Алмалы ауданы", "Алмалинский район", "Almaly district"),
        ("Әуезов ауданы", "Ауэзовский район", "Auezov district"),
        ("Бостандық ауданы", "Бостандыкский район", "Bostandyk district"),
        ("Жетісу ауданы", "Жетысуский район", "Zhetysu district"),
        ("Медеу ауданы", "Медеуский район", "Medeu district"),
        ("Наурызбай ауданы", "Наурызбайский район", "Nauryzbay district"),
        ("Түрксіб ауданы", "Турксибский район", "Turksib district"),
    ],
    "shymkent": [
        ("Абай ауданы", "Абайский район", "Abai district"),
        ("Әл-Фараби ауданы", "Аль-Фарабийский район", "Al-Farabi district"),
        ("Еңбекші ауданы", "Енбекшинский район", "Enbekshi district"),
        ("Қаратау ауданы", "Каратауский район", "Karatau district"),
        ("Тұран ауданы", "Туранский район", "Turan district"),
    ],
}

# country code, names kk/ru/en, IANA zone of each station (one entry per station)
ABROAD = [
    (
        "ru",
        "Ресей",
        "Россия",
        "Russia",
        [
            "Europe/Moscow",
            "Europe/Moscow",
            "Europe/Astrakhan",
            "Asia/Omsk",
            "Asia/Novosibirsk",
            "Asia/Yekaterinburg",
        ],
    ),
    ("us", "АҚШ", "США", "United States", ["America/New_York", "America/New_York", "America/Los_Angeles"]),
    ("cn", "Қытай", "Китай", "China", ["Asia/Shanghai", "Asia/Shanghai", "Asia/Urumqi"]),
    ("uz", "Өзбекстан", "Узбекистан", "Uzbekistan", ["Asia/Tashkent", "Asia/Samarkand"]),
    ("kg", "Қырғызстан", "Кыргызстан", "Kyrgyzstan", ["Asia/Bishkek", "Asia/Bishkek"]),
    ("tr", "Түркия", "Турция", "Turkey", ["Europe/Istanbul", "Europe/Istanbul"]),
    ("de", "Германия", "Германия", "Germany", ["Europe/Berlin", "Europe/Berlin"]),
    (
        "ae",
        "Біріккен Араб Әмірліктері",
        "Объединённые Арабские Эмираты",
        "United Arab Emirates",
        ["Asia/Dubai", "Asia/Dubai"],
    ),
    ("mn", "Моңғолия", "Монголия", "Mongolia", ["Asia/Ulaanbaatar", "Asia/Hovd"]),
    ("sa", "Сауд Арабиясы", "Саудовская Аравия", "Saudi Arabia", ["Asia/Riyadh"]),
    ("tm", "Түрікменстан", "Туркменистан", "Turkmenistan", ["Asia/Ashgabat"]),
    ("tj", "Тәжікстан", "Таджикистан", "Tajikistan", ["Asia/Dushanbe"]),
    ("az", "Әзірбайжан", "Азербайджан", "Azerbaijan", ["Asia/Baku"]),
    ("ge", "Грузия", "Грузия", "Georgia", ["Asia/Tbilisi"]),
    ("am", "Армения", "Армения", "Armenia", ["Asia/Yerevan"]),
    ("by", "Беларусь", "Беларусь", "Belarus", ["Europe/Minsk"]),
    ("ua", "Украина", "Украина", "Ukraine", ["Europe/Kyiv"]),
    ("md", "Молдова", "Молдова", "Moldova", ["Europe/Chisinau"]),
    ("pl", "Польша", "Польша", "Poland", ["Europe/Warsaw"]),
    ("cz", "Чехия", "Чехия", "Czechia", ["Europe/Prague"]),
    ("at", "Австрия", "Австрия", "Austria", ["Europe/Vienna"]),
    ("hu", "Венгрия", "Венгрия", "Hungary", ["Europe/Budapest"]),
    ("fr", "Франция", "Франция", "France", ["Europe/Paris"]),
    ("gb", "Ұлыбритания", "Великобритания", "United Kingdom", ["Europe/London"]),
    ("it", "Италия", "Италия", "Italy", ["Europe/Rome"]),
    ("es", "Испания", "Испания", "Spain", ["Europe/Madrid"]),
    ("nl", "Нидерланд", "Нидерланды", "Netherlands", ["Europe/Amsterdam"]),
    ("be", "Бельгия", "Бельгия", "Belgium", ["Europe/Brussels"]),
    ("ch", "Швейцария", "Швейцария", "Switzerland", ["Europe/Zurich"]),
    ("se", "Швеция", "Швеция", "Sweden", ["Europe/Stockholm"]),
    ("fi", "Финляндия", "Финляндия", "Finland", ["Europe/Helsinki"]),
    ("lv", "Латвия", "Латвия", "Latvia", ["Europe/Riga"]),
    ("lt", "Литва", "Литва", "Lithuania", ["Europe/Vilnius"]),
    ("gr", "Грекия", "Греция", "Greece", ["Europe/Athens"]),
    ("ro", "Румыния", "Румыния", "Romania", ["Europe/Bucharest"]),
    ("il", "Израиль", "Израиль", "Israel", ["Asia/Jerusalem"]),
    ("eg", "Мысыр", "Египет", "Egypt", ["Africa/Cairo"]),
    ("ir", "Иран", "Иран", "Iran", ["Asia/Tehran"]),
    ("in", "Үндістан", "Индия", "India", ["Asia/Kolkata"]),
    ("pk", "Пәкістан", "Пакистан", "Pakistan", ["Asia/Karachi"]),
    ("kr", "Корея Республикасы", "Республика Корея", "Republic of Korea", ["Asia/Seoul"]),
    ("jp", "Жапония", "Япония", "Japan", ["Asia/Tokyo"]),
    ("my", "Малайзия", "Малайзия", "Malaysia", ["Asia/Kuala_Lumpur"]),
    ("sg", "Сингапур", "Сингапур", "Singapore", ["Asia/Singapore"]),
    ("th", "Таиланд", "Таиланд", "Thailand", ["Asia/Bangkok"]),
    ("vn", "Вьетнам", "Вьетнам", "Vietnam", ["Asia/Ho_Chi_Minh"]),
    ("id", "Индонезия", "Индонезия", "Indonesia", ["Asia/Jakarta"]),
    ("qa", "Катар", "Катар", "Qatar", ["Asia/Qatar"]),
    ("kw", "Кувейт", "Кувейт", "Kuwait", ["Asia/Kuwait"]),
    ("jo", "Иордания", "Иордания", "Jordan", ["Asia/Amman"]),
    ("ca", "Канада", "Канада", "Canada", ["America/Toronto"]),
    ("br", "Бразилия", "Бразилия", "Brazil", ["America/Sao_Paulo"]),
    (
        "za",
        "Оңтүстік Африка Республикасы",
        "Южно-Африканская Республика",
        "South Africa",
        ["Africa/Johannesburg"],
    ),
]


def main() -> None:
    """Write districts.csv and stations.csv beside this script."""
    cfg = tomllib.loads((HERE / "scenario.toml").read_text(encoding="utf-8"))
    regions = {r["id"]: r for r in cfg["territory"]["regions"]}
    model = cfg["simulation"]["regions"]
    rng = np.random.default_rng(SEED)
    districts: list[list[str]] = []
    stations: list[list[str]] = []
    for rid, region in regions.items():
        m = model[rid]
        if region.get("kind") == "abroad":
            assert len(ABROAD) == m["districts"], "countries abroad"
            assert sum(len(z) for *_, z in ABROAD) == m["stations"], "stations abroad"
            size = m["voters"] / m["stations"]
            k = 0
            for code, kk, ru, en, zones in ABROAD:
                did = f"abroad-{code}"
                districts.append([did, rid, kk, ru, en, zones[0]])
                for zone in zones:
                    k += 1
                    s = max(30, round(size * float(rng.lognormal(0.0, 0.5))))
                    stations.append([f"abroad-{k:04d}", did, str(s), "urban", zone])
            continue
        n, nd = int(m["stations"]), int(m["districts"])
        names = CITY_DISTRICTS.get(rid)
        if names is not None:
            assert len(names) == nd, rid
        rname = region["name"]
        dids = []
        for j in range(nd):
            did = f"{rid}-d{j + 1:02d}"
            if names is not None:
                kk, ru, en = names[j]
            else:
                kk = f"{rname['kk']}, № {j + 1} аудан"
                ru = f"{rname['ru']}, район № {j + 1}"
                en = f"{rname['en']}, district {j + 1}"
            districts.append([did, rid, kk, ru, en, ""])
            dids.append(did)
        share = rng.dirichlet(np.full(nd, 4.0))
        per = 1 + np.floor(share * (n - nd)).astype(int)
        per[np.argsort(-(share * (n - nd) % 1))[: n - int(per.sum())]] += 1
        assert int(per.sum()) == n
        urban = rng.random(n) < float(m.get("urban", 0.5))
        mean = np.where(urban, 1.0, 0.4)
        sigma = np.where(urban, 0.3, 0.55)
        raw = mean * rng.lognormal(-(sigma**2) / 2, sigma)
        sizes = np.clip(np.rint(raw * (m["voters"] / raw.sum())), 30, 3000).astype(int)
        i = 0
        for did, count in zip(dids, per, strict=True):
            for _ in range(int(count)):
                kind = "urban" if urban[i] else "rural"
                stations.append([f"{rid}-{i + 1:04d}", did, str(int(sizes[i])), kind, ""])
                i += 1
    with (HERE / "districts.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["id", "region", "name_kk", "name_ru", "name_en", "time_zone"])
        w.writerows(districts)
    with (HERE / "stations.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["id", "district", "expected_size", "settlement", "time_zone"])
        w.writerows(stations)
    print(f"{len(districts)} districts, {len(stations)} stations")


if __name__ == "__main__":
    main()
