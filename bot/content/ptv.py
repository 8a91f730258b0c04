"""A thin client for the national Service Catalogue (PTV) open API v11: services by municipality.

PTV describes services in Finnish, Swedish and English only. ``ServiceDetails.language`` says which
language the data is in, so the caller can tell a user who asked in another language that the
details are in English (or, when a service has no English text, in Finnish or Swedish).
All calls go through ``bot.core.httpclient`` under one time budget; failures give None, never raise.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.core.httpclient import HttpClient
from bot.core.settings import DEFAULT_PTV_URL as DEFAULT_BASE_URL

log = logging.getLogger(__name__)

PTV_LANGUAGES = ("fi", "sv", "en")
_FALLBACK_ORDER = ("en", "fi", "sv")
_MUNICIPALITY_CODE = re.compile(r"[0-9]{3}")
_GUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_REGULAR_HOURS = ("DaysOfTheWeek", "Standard")


@dataclass(frozen=True)
class OpeningHours:
    """Regular opening hours; days are PTV's English day names ("Monday"), times "HH:MM"."""

    day_from: str
    day_to: str | None  # None: the single day ``day_from``
    opens: str
    closes: str


@dataclass(frozen=True)
class ServiceDetails:
    id: str
    name: str
    summary: str
    language: str  # language of name and summary: fi, sv or en
    phone: str | None = None
    address: str | None = None
    opening_hours: tuple[OpeningHours, ...] = ()
    web_page: str | None = None


def language_order(language: str) -> tuple[str, ...]:
    """Languages to try for a user of ``language``: theirs when PTV has it, then en, fi, sv."""
    first = (language,) if language in PTV_LANGUAGES else ()
    return first + tuple(code for code in _FALLBACK_ORDER if code != language)


def _localized(items: Any, order: Iterable[str], kind: str | None = None) -> tuple[str, str] | None:
    """(language, text) of the first non-empty text in ``order`` (of type ``kind``), else any."""
    candidates = [
        item
        for item in items or ()
        if isinstance(item, dict)
        and isinstance(item.get("value"), str)
        and item["value"].strip()
        and (kind is None or item.get("type") == kind)
    ]
    for code in order:
        for item in candidates:
            if item.get("language") == code:
                return code, item["value"].strip()
    if candidates:
        return str(candidates[0].get("language") or ""), candidates[0]["value"].strip()
    return None


def _text(items: Any, order: Iterable[str], kind: str | None = None) -> str | None:
    found = _localized(items, order, kind)
    return found[1] if found else None


def _phone(channel: dict[str, Any], order: tuple[str, ...]) -> str | None:
    numbers = [
        n
        for n in (channel.get("phoneNumbers") or []) + (channel.get("supportPhones") or [])
        if isinstance(n, dict) and n.get("number")
    ]
    numbers.sort(key=lambda n: order.index(n["language"]) if n.get("language") in order else 9)
    if not numbers:
        return None
    number = numbers[0]
    prefix = number.get("prefixNumber")
    if prefix and not number.get("isFinnishServiceNumber"):
        return f"{prefix} {number['number']}"
    return str(number["number"])


def _address(channel: dict[str, Any], order: tuple[str, ...]) -> str | None:
    """Street address of a visiting location ("Piimätie 1, 21140 RYMÄTTYLÄ"), else a postal one."""
    addresses = [a for a in channel.get("addresses") or [] if isinstance(a, dict)]
    addresses.sort(key=lambda a: 0 if a.get("type") in ("Location", "Visiting") else 1)
    for address in addresses:
        street = address.get("streetAddress")
        box = address.get("postOfficeBoxAddress")
        if isinstance(street, dict):
            line = " ".join(
                part
                for part in (_text(street.get("street"), order), street.get("streetNumber"))
                if part
            )
            post = street
        elif isinstance(box, dict):
            line, post = _text(box.get("postOfficeBox"), order) or "", box
        else:
            continue
        town = " ".join(
            p for p in (post.get("postalCode"), _text(post.get("postOffice"), order)) if p
        )
        text = ", ".join(part for part in (line, town) if part)
        if text:
            return text
    return None


def _hours(channel: dict[str, Any]) -> tuple[OpeningHours, ...]:
    """Regular weekly hours in force now; exceptional and closed periods are left out."""
    hours: list[OpeningHours] = []
    for entry in channel.get("serviceHours") or []:
        if not isinstance(entry, dict) or entry.get("isClosed"):
            continue
        if entry.get("serviceHourType") not in _REGULAR_HOURS or entry.get("validForNow") is False:
            continue
        if entry.get("isAlwaysOpen"):
            return (OpeningHours("Monday", "Sunday", "00:00", "24:00"),)
        for slot in entry.get("openingHour") or []:
            if isinstance(slot, dict) and slot.get("dayFrom") and slot.get("from"):
                hours.append(
                    OpeningHours(
                        slot["dayFrom"],
                        slot.get("dayTo") or None,
                        str(slot["from"])[:5],
                        str(slot.get("to") or "")[:5],
                    )
                )
    return tuple(hours)


def _web_page(channel: dict[str, Any], order: tuple[str, ...]) -> str | None:
    pages = [
        p
        for p in channel.get("webPages") or []
        if isinstance(p, dict)
        and isinstance(p.get("url"), str)
        and urlsplit(p["url"]).scheme in ("http", "https")
    ]
    pages.sort(key=lambda p: order.index(p["language"]) if p.get("language") in order else 9)
    return pages[0]["url"] if pages else None


def map_service(
    service: dict[str, Any], channels: Iterable[dict[str, Any]], language: str
) -> ServiceDetails | None:
    """A service record plus some of its channel records as ServiceDetails for ``language``.

    The data language is the first of ``language_order(language)`` the service has a name in;
    contact fields come from the first channel that has each one.
    """
    order = language_order(language)
    named = _localized(service.get("serviceNames"), order, "Name")
    if not isinstance(service.get("id"), str) or named is None:
        return None
    data_language, name = named
    data_order = (data_language, *order)
    summary = _text(
        [
            d
            for d in service.get("serviceDescriptions") or []
            if isinstance(d, dict) and d.get("language") == data_language
        ],
        data_order,
        "Summary",
    )
    phone = address = web_page = None
    hours: tuple[OpeningHours, ...] = ()
    for channel in channels:
        phone = phone or _phone(channel, data_order)
        address = address or _address(channel, data_order)
        web_page = web_page or _web_page(channel, data_order)
        hours = hours or _hours(channel)
    return ServiceDetails(
        id=service["id"],
        name=name,
        summary=summary or "",
        language=data_language,
        phone=phone,
        address=address,
        opening_hours=hours,
        web_page=web_page,
    )


class PtvClient:
    """Services of a municipality with their contact details, from PTV open API v11.

    One ``services_for_municipality`` call spends at most ``budget`` seconds: the service list
    first, then details of up to ``max_services`` services and ``channels_per_service`` channels
    each, as long as time remains (services are still returned without the details not fetched).
    Successful answers are cached for ``cache_ttl`` seconds, and an expired copy is used when PTV
    fails, because service data changes slowly and PTV is not always quick.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        client: HttpClient | None = None,
        budget: float = 2.5,
        max_pages: int = 3,
        max_services: int = 20,
        channels_per_service: int = 3,
        cache_ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or HttpClient(name="ptv", max_bytes=20_000_000)
        self.budget = budget
        self.max_pages = max_pages
        self.max_services = max_services
        self.channels_per_service = channels_per_service
        self.cache_ttl = cache_ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def services_for_municipality(self, code: str, language: str) -> list[ServiceDetails] | None:
        """Services PTV lists for municipality ``code`` ("905"); None when PTV could not answer."""
        if not _MUNICIPALITY_CODE.fullmatch(code):
            log.warning("ptv: %r is not a municipality code", code)
            return None
        end = time.monotonic() + self.budget
        records = self._service_list(code, end)
        if records is None:
            return None
        full = []
        for record in records[: self.max_services]:
            if "serviceNames" not in record:  # a bare {id, name} item: fetch the full record
                record = self._get(f"Service/{record.get('id')}", end) if _is_guid(record) else None
            if isinstance(record, dict):
                full.append(record)
        # Names and summaries first, contact details with the time that is left.
        services = []
        for record in full:
            details = self._map(record, self._channels(record, end), language)
            if details is not None:
                services.append(details)
        return services

    def service(self, service_id: str, language: str) -> ServiceDetails | None:
        """One service with details of its first channels; None when unavailable."""
        if not _GUID.fullmatch(service_id):
            return None
        end = time.monotonic() + self.budget
        record = self._get(f"Service/{service_id}", end)
        if not isinstance(record, dict):
            return None
        return self._map(record, self._channels(record, end), language)

    def service_channel(self, channel_id: str) -> dict[str, Any] | None:
        """The raw channel record (phone, address, hours, web pages), or None."""
        if not _GUID.fullmatch(channel_id):
            return None
        record = self._get(f"ServiceChannel/{channel_id}", time.monotonic() + self.budget)
        return record if isinstance(record, dict) else None

    def _service_list(self, code: str, end: float) -> list[dict[str, Any]] | None:
        """Items of the paged list; None when not even the first page arrived."""
        items: list[dict[str, Any]] = []
        path = f"Service/list/area/Municipality/code/{code}"
        for page in range(1, self.max_pages + 1):
            data = self._get(path, end, page=page)
            if not isinstance(data, dict) or not isinstance(data.get("itemList"), list):
                if page == 1:
                    return None
                break
            items.extend(item for item in data["itemList"] if isinstance(item, dict))
            if len(items) >= self.max_services or page >= _int(data.get("pageCount"), 1):
                break
        return items

    def _channels(self, service: dict[str, Any], end: float) -> list[dict[str, Any]]:
        channels = []
        for link in (service.get("serviceChannels") or [])[: self.channels_per_service]:
            channel = link.get("serviceChannel") if isinstance(link, dict) else None
            if isinstance(channel, dict) and _is_guid(channel):
                record = self._get(f"ServiceChannel/{channel['id']}", end)
                if isinstance(record, dict):
                    channels.append(record)
        return channels

    @staticmethod
    def _map(
        record: dict[str, Any], channels: list[dict[str, Any]], language: str
    ) -> ServiceDetails | None:
        """``map_service``, skipping a record whose shape is off instead of failing the answer."""
        try:
            return map_service(record, channels, language)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            log.warning(
                "ptv: skipping service %s: unexpected record shape (%r)", record.get("id"), exc
            )
            return None

    def _get(self, path: str, end: float, page: int | None = None) -> Any:
        """Cached JSON of ``{base}/{path}``; an expired copy when PTV fails; None when neither.

        404/410 answers are cached as None too: services name channels that have been withdrawn,
        and asking for them again on every question would spend the time budget for nothing.
        """
        url = f"{self.base_url}/{path}" + (f"?page={page}" if page else "")
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None and self._clock() < cached[0]:
            return cached[1]
        remaining = end - time.monotonic()
        if remaining <= 0:
            return cached[1] if cached else None
        result = self.client.get_json(url, deadline=remaining)
        if result.ok or result.status in (404, 410):  # gone records stay gone for a while
            with self._lock:
                self._cache[url] = (self._clock() + self.cache_ttl, result.data)
            return result.data
        return cached[1] if cached else None


def _is_guid(record: dict[str, Any]) -> bool:
    return isinstance(record.get("id"), str) and bool(_GUID.fullmatch(record["id"]))


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) else default
