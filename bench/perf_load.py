"""The conversations bench.perf sends, and the REST load generator (asyncio + aiohttp).

Kotobot's conversations are written for this benchmark (not taken from tests/nlu_eval/): typed
questions in all 13 languages across topics, topic buttons (``/topic`` payloads with the channel's
UI language in ``metadata``), small talk, a language switch, and municipalities, so that requests
go through the action server, the content API and the Service Catalogue (PTV), as real ones do.
The stock assistant gets conversations that follow its own stories and example phrases.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np

Message = tuple[str, dict[str, Any] | None]
Conversation = Sequence[Message]


def _ui(language: str) -> dict[str, Any]:
    return {"language": language}


KOTOBOT_CONVERSATIONS: list[Conversation] = [
    [("Hei!", None), ("Miten saan oleskeluluvan puolisolleni?", None), ("kiitos", None)],
    [("Missä voin opiskella suomea? Asun Tampereella.", None)],
    [("Hej, hur kan jag bli finsk medborgare?", None), ("Tack så mycket!", None)],
    [("Finns det svenskkurser för vuxna invandrare i Vasa?", None)],
    [("What is an initial assessment and who needs one?", None), ("I live in Espoo", None)],
    [("I fled the war in Ukraine. Can I get temporary protection in Finland?", None),
     ("are you a real person?", None)],
    [("Здравствуйте! Как продлить вид на жительство?", None), ("спасибо", None)],
    [("Где искать работу в Хельсинки?", None)],
    [("Я приїхала з України, які права дає тимчасовий захист?", None)],
    [("/integration_plan", _ui("uk")), ("дякую, ви дуже допомогли", None)],
    [("كيف يمكنني إحضار زوجتي وأطفالي إلى فنلندا؟", None), ("شكرا جزيلا", None)],
    [("/language_training", _ui("ar")), ("أسكن في توركو", None)],
    [("Sideen u codsan karaa magangelyo Finland?", None)],
    [("/citizenship", _ui("so")), ("mahadsanid", None)],
    [("چطور می‌توانم شهروندی فنلاند را بگیرم؟", None), ("ممنون", None)],
    [("برنامه ادغام چیست و چه کسی آن را می‌گیرد؟", None)],
    [("Tere! Kuidas saada Soome elamisluba, kui tulen tööle?", None)],
    [("Kus saab Espoos soome keelt õppida?", None)],
    [("Finlandiya'da oturma iznimi nasıl uzatabilirim?", None), ("teşekkürler", None)],
    [("Çocuklar ve gençler için ne tür destekler var?", None)],
    [("你好，怎么申请芬兰国籍？", None), ("谢谢", None)],
    [("/residence_permit", _ui("zh"))],
    [("¿Cómo puedo traer a mi marido a Finlandia?", None), ("gracias", None)],
    [("¿Dónde hay cursos de finés en Helsinki?", None)],
    [("Bonjour, comment demander l'asile en Finlande ?", None), ("merci beaucoup", None)],
    [("/employment", _ui("fr")), ("J'habite à Oulu", None)],
    [("miten haen töitä", None), ("in English please", None)],
    [("كيف أحصل على kotoutumissuunnitelma", None)],
]  # fmt: skip

STOCK_CONVERSATIONS: list[Conversation] = [
    [("hello there", None), ("I am feeling sad today", None), ("yes", None)],
    [("good morning", None), ("I am great", None), ("bye", None)],
    [("hey", None), ("I am not happy", None), ("no", None)],
    [("hi", None), ("are you a bot?", None), ("goodbye", None)],
    [("good evening", None), ("I am amazing", None)],
    [("hey there", None), ("I am disappointed", None), ("of course", None)],
]

KOTOBOT_FIRST = ("Hei!", None)
STOCK_FIRST = ("hello", None)


def message_count(conversations: Sequence[Conversation]) -> int:
    return sum(len(c) for c in conversations)


def languages_in(conversations: Sequence[Conversation]) -> int:
    """Distinct UI languages given in metadata (typed texts are detected by the bot)."""
    return len({m["language"] for c in conversations for _, m in c if m})


@dataclass
class LevelResult:
    users: int
    sent: int = 0
    ok: int = 0
    errors: int = 0
    empty: int = 0  # 200 but no reply at all
    wall: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # server name -> CPU seconds used
    error_samples: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def throughput(self) -> float:
        return self.ok / self.wall if self.wall else 0.0

    def cpu_ms_per_message(self, name: str) -> float:
        return 1000 * self.cpu.get(name, float("nan")) / max(self.ok, 1)


def webhook(base_url: str) -> str:
    return f"{base_url}/webhooks/rest/webhook"


async def _say(
    session: aiohttp.ClientSession, url: str, sender: str, message: Message
) -> list[dict[str, Any]]:
    text, metadata = message
    body: dict[str, Any] = {"sender": sender, "message": text}
    if metadata is not None:
        body["metadata"] = metadata
    async with session.post(url, json=body) as response:
        response.raise_for_status()
        return await response.json()


async def _run_level(
    base_url: str,
    conversations: Sequence[Conversation],
    users: int,
    total: int,
    timeout: float,
    transcript: list[dict[str, Any]] | None = None,
) -> LevelResult:
    """``users`` concurrent users, each going through whole conversations (a new sender id for
    each) until ``total`` messages have been sent; latency is per message, client side."""
    result = LevelResult(users=users)
    url = webhook(base_url)
    pending = itertools.cycle(conversations)
    connector = aiohttp.TCPConnector(limit=users, force_close=False)
    client_timeout = aiohttp.ClientTimeout(total=timeout)

    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:

        async def user() -> None:
            while result.sent < total:
                sender = f"perf-{uuid.uuid4().hex[:16]}"
                for message in next(pending):
                    if result.sent >= total:
                        return
                    result.sent += 1
                    start = time.perf_counter()
                    try:
                        replies = await _say(session, url, sender, message)
                    except Exception as exc:  # noqa: BLE001 (counted, reported)
                        result.errors += 1
                        if len(result.error_samples) < 5:
                            result.error_samples.append(f"{type(exc).__name__}: {exc}"[:200])
                        continue
                    result.latencies_ms.append(1000 * (time.perf_counter() - start))
                    result.ok += 1
                    result.empty += not replies
                    if transcript is not None:
                        transcript.append(
                            {"sender": sender, "message": message[0], "metadata": message[1],
                             "replies": [_brief(reply) for reply in replies]}
                        )  # fmt: skip

        start = time.perf_counter()
        await asyncio.gather(*(user() for _ in range(users)))
        result.wall = time.perf_counter() - start
    return result


def _brief(reply: dict[str, Any]) -> str:
    text = (reply.get("text") or "").replace("\n", " ")
    buttons = [b.get("title", "") for b in reply.get("buttons") or []]
    return text[:160] + (f" [buttons: {', '.join(buttons)[:120]}]" if buttons else "")


def run_level(
    base_url: str,
    conversations: Sequence[Conversation],
    users: int,
    total: int,
    *,
    timeout: float = 120.0,
    cpu_of: dict[str, Callable[[], float]] | None = None,
    transcript: list[dict[str, Any]] | None = None,
) -> LevelResult:
    """One concurrency level; ``cpu_of`` maps server names to CPU-seconds readers."""
    before = {name: read() for name, read in (cpu_of or {}).items()}
    result = asyncio.run(_run_level(base_url, conversations, users, total, timeout, transcript))
    result.cpu = {name: read() - before[name] for name, read in (cpu_of or {}).items()}
    return result


def answer_once(base_url: str, message: Message, timeout: float = 60.0) -> bool:
    """True once the server gives a non-empty answer (the cold-start probe)."""

    async def once() -> bool:
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(timeout=client_timeout) as session:
            try:
                replies = await _say(
                    session, webhook(base_url), f"perf-cold-{uuid.uuid4().hex[:8]}", message
                )
            except (aiohttp.ClientError, asyncio.TimeoutError):
                return False
            return bool(replies)

    return asyncio.run(once())


def warm_up(
    base_url: str, conversations: Sequence[Conversation], transcript: list[dict[str, Any]]
) -> LevelResult:
    """Every conversation once, 4 users, not reported: first-use costs out of the figures.
    What each message got back goes to ``transcript``, to check that the answers make sense."""
    return run_level(
        base_url, conversations, 4, message_count(conversations), transcript=transcript
    )
