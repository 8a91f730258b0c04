"""Local services for immigrants from the Service Catalogue (PTV), in the user's language."""

from __future__ import annotations

from collections.abc import Iterable

from bot.content.ptv import ServiceDetails
from bot.content.replies import Reply
from bot.core.locales import Locale, get_locale

MAX_SERVICES = 5
SUMMARY_CHARS = 220
# A service is about integration when its name or summary says so, in PTV's three languages.
INTEGRATION_WORDS = (
    "kotoutu", "maahanmuutt", "maahan muutt", "pakolai", "turvapaik", "integration", "immigra",
    "refugee", "asylum", "invandr", "flykting", "integrering", "integrations",
)  # fmt: skip
# Everyday topics look for their own kind of local service (PTV data is in fi, sv and en).
TOPIC_WORDS = {
    "health_care": ("terveysasem", "terveyskesku", "hälsostation", "hälsocentral",
                    "health centre", "health center", "päivystys", "jour", "neuvola", "rådgivning"),
    "housing": ("vuokra-asun", "vuokra-asum", "asunnonhak", "hyresbostad", "hyresbo",
                "rental housing", "rental flat", "asumisneuvo", "boenderådgivning"),
    "education_and_daycare": ("varhaiskasvatu", "päiväkot", "päivähoi", "småbarnspedagog",
                              "daghem", "early childhood", "daycare", "esiopetu", "förskol"),
    "registration_and_identity": ("digi- ja väestötieto", "väestötieto", "myndigheten för digital",
                                  "digital and population", "henkilötunnu", "personbeteckning",
                                  "identity code", "maistraat"),
}  # fmt: skip


def service_words(topic: str | None) -> tuple[str, ...]:
    return TOPIC_WORDS.get(topic or "", INTEGRATION_WORDS)


def is_integration_service(service: ServiceDetails, topic: str | None = None) -> bool:
    text = f"{service.name} {service.summary}".lower()
    return any(word in text for word in service_words(topic))


def integration_services(
    services: Iterable[ServiceDetails], topic: str | None = None
) -> list[ServiceDetails]:
    """The services that fit ``topic`` (integration services by default), at most a few."""
    relevant = [service for service in services if is_integration_service(service, topic)]
    return relevant[:MAX_SERVICES]


def _service_lines(service: ServiceDetails) -> list[str]:
    summary = service.summary
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "…"
    lines = [f"**{service.name}**", summary]
    if service.phone:
        lines.append(f"☎ {service.phone}")
    if service.address:
        lines.append(f"📍 {service.address}")
    if service.web_page:
        lines.append(service.web_page)
    return lines


def services_reply(
    locale: Locale,
    municipality: str,
    services: list[ServiceDetails] | None,
    topic: str | None = None,
) -> Reply:
    """The services found, a note when none were, or a polite message when PTV is unreachable
    (the topic's own answer has been given already, so the user still has what is known)."""
    if services is None:
        return {"text": locale.text("services_unavailable", municipality=municipality)}
    relevant = integration_services(services, topic)
    if not relevant:
        return {"text": locale.text("services_none", municipality=municipality)}
    lines = [locale.text("services_intro", municipality=municipality)]
    for service in relevant:
        lines += [""] + _service_lines(service)
    other_languages = {s.language for s in relevant if s.language != locale.code}
    if other_languages:
        page_language = get_locale(sorted(other_languages)[0]).name
        lines += ["", locale.text("ptv_language_note", language_name=locale.name,
                                  page_language=page_language)]  # fmt: skip
    return {"text": "\n".join(lines)}
