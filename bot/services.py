"""Local services for immigrants from the Service Catalogue (PTV), in the user's language."""

from __future__ import annotations

from collections.abc import Iterable

from bot.content.ptv import ServiceDetails
from bot.locales import Locale, get_locale
from bot.replies import Reply

MAX_SERVICES = 5
SUMMARY_CHARS = 220
# A service is about integration when its name or summary says so, in PTV's three languages.
INTEGRATION_WORDS = (
    "kotoutu", "maahanmuutt", "maahan muutt", "pakolai", "turvapaik", "integration", "immigra",
    "refugee", "asylum", "invandr", "flykting", "integrering", "integrations",
)  # fmt: skip


def is_integration_service(service: ServiceDetails) -> bool:
    text = f"{service.name} {service.summary}".lower()
    return any(word in text for word in INTEGRATION_WORDS)


def integration_services(services: Iterable[ServiceDetails]) -> list[ServiceDetails]:
    return [service for service in services if is_integration_service(service)][:MAX_SERVICES]


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
    locale: Locale, municipality: str, services: list[ServiceDetails] | None
) -> Reply:
    """The services found, a note when none were, or a polite message when PTV is unreachable."""
    if services is None:
        return {"text": locale.text("services_unavailable")}
    relevant = integration_services(services)
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
