"""The PTV client on real Service Catalogue records (tests/fixtures/ptv) served on 127.0.0.1."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.content.ptv import (
    DEFAULT_BASE_URL,
    OpeningHours,
    PtvClient,
    language_order,
    map_service,
)
from tests.support.local_http import FakeClock, LocalApi, Reply, closed_port_url, fast_client

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ptv"
EDUCATION = "17c633dd-5408-495a-86c1-d8f57598e899"  # Vaasa, fi/sv/en
ASYLUM = "73ceb656-c1a3-4479-b84a-d99d88f1b66d"  # Vaasa, fi/sv/en
TYP = "5fe23177-860c-4257-ac03-b4cdeab87d19"  # fi/sv only
PHONE_CHANNEL = "2e7f0b8d-4943-4fd4-8a22-7b02830be16e"  # Vaasa crisis group
LOCATION_CHANNEL = "2481937a-5d4d-4643-a9b9-9877be5d4d3e"  # Naantali school
LIST = "/Service/list/area/Municipality/code/905"


def record(kind: str, record_id: str) -> dict[str, Any]:
    return json.loads((FIXTURES / kind / f"{record_id}.json").read_text("utf-8"))


def page(number: int, count: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A V11VmOpenApiServicesWithPaging answer."""
    return {"pageNumber": number, "pageSize": 2, "pageCount": count, "itemList": items}


@pytest.fixture
def ptv() -> Iterator[LocalApi]:
    """PTV for Vaasa (905): two pages of services; page 2 holds a bare {id, name} item."""
    with LocalApi() as api:
        api.reply(
            f"{LIST}?page=1",
            Reply(200, page(1, 2, [record("services", EDUCATION), record("services", ASYLUM)])),
        )
        api.reply(f"{LIST}?page=2", Reply(200, page(2, 2, [{"id": TYP, "name": "TYP"}])))
        for service_id in (EDUCATION, ASYLUM, TYP):
            api.reply(f"/Service/{service_id}", Reply(200, record("services", service_id)))
        for channel_id in (PHONE_CHANNEL, LOCATION_CHANNEL):
            api.reply(f"/ServiceChannel/{channel_id}", Reply(200, record("channels", channel_id)))
        yield api  # other channel ids the services name answer 404, as withdrawn ones would


def client(api_url: str, **settings: Any) -> PtvClient:
    return PtvClient(api_url, client=fast_client(), **settings)


def test_services_for_a_municipality_in_finnish(ptv: LocalApi) -> None:
    services = client(ptv.url).services_for_municipality("905", "fi")
    assert services is not None
    by_id = {s.id: s for s in services}
    assert list(by_id) == [EDUCATION, ASYLUM, TYP]
    assert by_id[EDUCATION].name == "Perusopetus"
    assert by_id[EDUCATION].summary == (
        "Vaasassa perusopetusta annetaan pääosin kaupungin ylläpitämissä peruskouluissa."
    )
    assert by_id[ASYLUM].name == "Turvapaikanhakijoiden vastaanotto"  # Name, not AlternativeName
    assert by_id[TYP].name == "Työllistymistä edistävä monialainen yhteispalvelu (TYP)"
    assert {s.language for s in services} == {"fi"}
    assert ptv.hits(f"{LIST}?page=2") == 1  # paging followed
    assert ptv.hits(f"/Service/{TYP}") == 1  # the bare item was fetched in full
    assert ptv.hits(f"/Service/{EDUCATION}") == 0  # full records were used as they came


def test_swedish_data_for_swedish(ptv: LocalApi) -> None:
    services = client(ptv.url).services_for_municipality("905", "sv")
    assert [(s.name, s.language) for s in services or []] == [
        ("Grundläggande utbildning", "sv"),
        ("Mottagning av asylsökande", "sv"),
        ("Sektorsövergripande samsercive som främjar sysselsättningen", "sv"),
    ]


@pytest.mark.parametrize("language", ["ru", "ar", "so", "uk", "en"])
def test_other_languages_get_english_data_marked_as_english(ptv: LocalApi, language: str) -> None:
    services = client(ptv.url).services_for_municipality("905", language)
    by_id = {s.id: s for s in services or []}
    assert (by_id[ASYLUM].name, by_id[ASYLUM].language) == ("Receiving asylum seekers", "en")
    assert by_id[ASYLUM].summary.startswith("The Reception Centre organises reception services")
    assert (by_id[EDUCATION].name, by_id[EDUCATION].language) == ("Basic education", "en")
    # The TYP record has no English text: Finnish data, and the caller is told so.
    assert by_id[TYP].language == "fi"
    assert by_id[TYP].summary.startswith("Työllistymistä edistävä")


def test_language_order() -> None:
    assert language_order("sv") == ("sv", "en", "fi")
    assert language_order("fa") == ("en", "fi", "sv")


def test_phone_channel_gives_phone_and_opening_hours() -> None:
    details = map_service(record("services", ASYLUM), [record("channels", PHONE_CHANNEL)], "fi")
    assert details is not None
    assert details.phone == "+358 405501990"
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    assert details.opening_hours == tuple(OpeningHours(d, None, "08:00", "16:00") for d in days)
    assert details.address is None and details.web_page is None


def test_location_channel_gives_address_phone_and_web_page() -> None:
    details = map_service(
        record("services", EDUCATION), [record("channels", LOCATION_CHANNEL)], "fi"
    )
    assert details is not None
    assert details.address == "Piimätie 1, 21140 RYMÄTTYLÄ"  # the visiting address, not the PO box
    assert details.phone == "+358 405245847"
    assert details.web_page == (
        "http://www.naantali.fi/opetus_ja_koulutus/koulut/rymattyla/fi_FI/henkilokunta/"
    )
    assert details.opening_hours == ()


def test_each_detail_comes_from_the_first_channel_that_has_it() -> None:
    channels = [record("channels", PHONE_CHANNEL), record("channels", LOCATION_CHANNEL)]
    details = map_service(record("services", ASYLUM), channels, "en")
    assert details is not None
    assert (details.phone, details.address) == ("+358 405501990", "Piimätie 1, 21140 RYMÄTTYLÄ")
    assert len(details.opening_hours) == 7


def test_a_service_with_its_channels_over_http(ptv: LocalApi) -> None:
    """The samples do not link services to channels; a copy of one is linked to both, in memory."""
    service = copy.deepcopy(record("services", ASYLUM))
    service["serviceChannels"] = [
        {"serviceChannel": {"id": PHONE_CHANNEL, "name": "Kriisiryhmä"}},
        {"serviceChannel": {"id": LOCATION_CHANNEL, "name": "Rymättylän koulu"}},
    ]
    ptv.reply(f"/Service/{ASYLUM}", Reply(200, service))
    details = client(ptv.url).service(ASYLUM, "ru")
    assert details is not None
    assert (details.name, details.language, details.phone) == (
        "Receiving asylum seekers",
        "en",
        "+358 405501990",
    )
    assert details.address == "Piimätie 1, 21140 RYMÄTTYLÄ"
    assert ptv.hits(f"/ServiceChannel/{PHONE_CHANNEL}") == 1


def test_channels_that_are_gone_leave_the_service_without_details(ptv: LocalApi) -> None:
    services = client(ptv.url, channels_per_service=2).services_for_municipality("905", "en")
    assert services and all(s.phone is None and s.address is None for s in services)
    assert ptv.hits("/ServiceChannel/0daede62-be2c-4f7a-aa87-d36f86bb7c7c") == 1  # 404


def test_a_record_of_an_unexpected_shape_is_skipped(ptv: LocalApi) -> None:
    odd = copy.deepcopy(record("services", ASYLUM))
    odd["serviceChannels"] = ["not an object", {"serviceChannel": {"id": PHONE_CHANNEL}}]
    broken_channel = {**record("channels", PHONE_CHANNEL), "phoneNumbers": {"number": "1"}}
    ptv.reply(f"/ServiceChannel/{PHONE_CHANNEL}", Reply(200, broken_channel))
    ptv.reply(f"{LIST}?page=1", Reply(200, page(1, 1, [odd, record("services", EDUCATION)])))
    services = client(ptv.url).services_for_municipality("905", "en")
    assert [s.id for s in services or []] == [EDUCATION]


def test_odd_fields_are_tolerated_where_possible() -> None:
    odd = {**record("services", ASYLUM), "serviceDescriptions": "not a list"}
    details = map_service(odd, [], "en")
    assert details is not None and (details.name, details.summary) == (
        "Receiving asylum seekers",
        "",
    )


def test_raw_channel_record(ptv: LocalApi) -> None:
    channel = client(ptv.url).service_channel(PHONE_CHANNEL)
    assert channel is not None and channel["serviceChannelType"] == "Phone"
    assert client(ptv.url).service_channel("not-a-guid") is None


@pytest.fixture
def api_failure() -> Iterator[LocalApi]:
    with LocalApi() as api:
        yield api


@pytest.mark.parametrize("failure", [Reply(500), Reply(200, b"<html>busy</html>"), Reply(404)])
def test_a_failing_list_gives_none(api_failure: LocalApi, failure: Reply) -> None:
    api_failure.reply(f"{LIST}?page=1", failure)
    assert client(api_failure.url).services_for_municipality("905", "fi") is None


def test_ptv_down_gives_none_within_3_seconds() -> None:
    start = time.monotonic()
    assert PtvClient(closed_port_url()).services_for_municipality("905", "en") is None
    assert time.monotonic() - start < 3.0


def test_slow_channels_are_cut_off_by_the_budget(ptv: LocalApi) -> None:
    """The list arrives; channel lookups hang. The services still come back, on time."""
    for channel_id in (
        "0daede62-be2c-4f7a-aa87-d36f86bb7c7c",
        "3b85838e-7ee7-4123-ba50-3c901e0d1597",
        "3e0951ab-890f-441b-bcf5-5c27b56b1fde",
    ):
        ptv.reply(f"/ServiceChannel/{channel_id}", Reply(200, {}, delay=10))
    ptv_client = PtvClient(ptv.url, client=fast_client(read_timeout=5, deadline=5), budget=1.0)
    start = time.monotonic()
    services = ptv_client.services_for_municipality("905", "en")
    assert time.monotonic() - start < 1.3
    assert services is not None and len(services) == 3


def test_answers_are_cached_and_used_stale_when_ptv_fails(ptv: LocalApi) -> None:
    clock = FakeClock()
    ptv_client = client(ptv.url, clock=clock, cache_ttl=3600)
    first = ptv_client.services_for_municipality("905", "fi")
    calls = ptv.hits()
    assert ptv_client.services_for_municipality("905", "fi") == first
    assert ptv.hits() == calls  # all from the cache
    clock.advance(3601)
    ptv.reply(f"{LIST}?page=1", Reply(500))
    ptv.reply(f"{LIST}?page=2", Reply(500))
    assert ptv_client.services_for_municipality("905", "fi") == first
    assert ptv.hits() > calls  # it did ask PTV again


@pytest.mark.parametrize("code", ["91", "0905", "abc", "../x", "905\n", "٩٠٥"])
def test_bad_municipality_codes_never_reach_the_network(ptv: LocalApi, code: str) -> None:
    assert client(ptv.url).services_for_municipality(code, "fi") is None
    assert ptv.hits() == 0


def test_default_base_url() -> None:
    assert (
        PtvClient().base_url
        == DEFAULT_BASE_URL
        == "https://api.palvelutietovaranto.suomi.fi/api/v11"
    )
