// Kotobot's web chat page: a language picker, a conversation log of cards, a message box, over
// Rasa's socket.io channel (bot/server/channels/socketio.py) with socket.io-client (vendor/socket.io.min.js).
//
// Protocol (Rasa's, as rasa-webchat spoke it): on connect `session_request {session_id}` →
// `session_confirm <id>`; `user_uttered {message, session_id, customData: {language}, message_id}`;
// `bot_uttered {text, quick_replies?, metadata: {language, dir, reply_to, turn, last}}`. The page makes
// one card of a turn's messages (card.js) and follows the language the reply says it is in.
//
// Settings: config.json {"socket_url": ""} — "" the page's own origin, ":PORT" the page's host on
// that port, or an origin (bot/tools/web_i18n.py writes it from WEB_SOCKET_URL). ?lang=xx starts in
// language xx (else the last choice, else the browser's language, else English).
import { changeLanguageCode, renderTurn, renderUser } from "./card.js";

const LANGUAGE_KEY = "kotobot.language"; // localStorage: the chosen language
const CHAT_KEY = "kotobot.chat"; // sessionStorage: the conversation (forgotten when the tab closes)
const FALLBACK_LANGUAGE = "en";
const MAX_ITEMS = 200;
const TURN_IDLE_MS = 1500; // a turn without metadata.last (another server) ends after this pause
const RECONNECTED_MS = 4000;

const el = (id) => document.getElementById(id);
const log = el("log"), input = el("message"), form = el("composer"), select = el("language");
const status = el("status"), typing = el("typing");
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

const state = {
  i18n: null,
  language: FALLBACK_LANGUAGE,
  sessionId: null,
  items: [], // {type: "user", id, text, lang} | {type: "bot", reply_to, language, dir, messages}
  pending: [], // {id, message, language, hidden, sent}: not answered yet
  connected: false, // socket connected and session confirmed
  lost: false, // the connection was lost (or never made) since the last confirmation
};
const turns = new Map(); // turn id → {messages, reply_to, …}: bot messages of a turn still arriving
let socket = null;
let statusTimer = null;

function texts() {
  return state.i18n.languages[state.language];
}

function newId() {
  const random = new Uint8Array(9);
  window.crypto.getRandomValues(random);
  return Array.from(random, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// --- storage ------------------------------------------------------------------------------------

function storage(kind) {
  try {
    return window[kind];
  } catch (error) {
    return null; // storage disabled: the conversation lasts as long as the page
  }
}

function save() {
  state.items = state.items.slice(-MAX_ITEMS);
  const data = { v: 1, session_id: state.sessionId, items: state.items, pending: state.pending };
  try {
    storage("sessionStorage")?.setItem(CHAT_KEY, JSON.stringify(data));
  } catch (error) {
    // full or disabled
  }
}

function restore() {
  try {
    const data = JSON.parse(storage("sessionStorage")?.getItem(CHAT_KEY) || "null");
    if (!data || data.v !== 1) return;
    state.sessionId = typeof data.session_id === "string" ? data.session_id : null;
    state.items = Array.isArray(data.items) ? data.items : [];
    state.pending = (Array.isArray(data.pending) ? data.pending : []).map((p) => ({ ...p, sent: false }));
  } catch (error) {
    // unreadable: a new conversation
  }
}

// --- language -----------------------------------------------------------------------------------

function supported(code) {
  return typeof code === "string" && Object.prototype.hasOwnProperty.call(state.i18n.languages, code);
}

function initialLanguage() {
  const params = new URLSearchParams(window.location.search);
  const candidates = [params.get("lang"), storage("localStorage")?.getItem(LANGUAGE_KEY)];
  for (const tag of navigator.languages || [navigator.language]) {
    candidates.push((tag || "").toLowerCase().slice(0, 2));
  }
  return candidates.find(supported) || FALLBACK_LANGUAGE;
}

function fillPicker() {
  for (const code of state.i18n.order) {
    const option = document.createElement("option");
    option.value = code;
    option.lang = code;
    option.dir = state.i18n.languages[code].dir;
    option.textContent = state.i18n.languages[code].name;
    select.append(option);
  }
}

// The page's texts, language and direction (i18n.json's `dir`: the locale's `direction`).
function applyTexts() {
  const t = texts();
  const root = document.documentElement;
  root.lang = state.language;
  root.dir = t.dir;
  document.title = t.title;
  el("heading").textContent = t.heading;
  el("subtitle").textContent = t.subtitle;
  el("language-label").textContent = t.language_label;
  el("privacy").textContent = t.privacy;
  el("skip").textContent = t.skip_to_input;
  el("message-label").textContent = t.input_hint;
  el("send-label").textContent = t.send;
  input.placeholder = t.input_hint;
  log.setAttribute("aria-label", t.conversation);
  select.value = state.language;
  for (const who of log.querySelectorAll("[data-role=who]")) {
    who.lang = state.language;
    who.textContent = `${t.you}: `;
  }
  for (const note of log.querySelectorAll(".queued")) {
    note.lang = state.language;
    note.textContent = t.queued;
  }
  showStatus();
  updateTyping();
}

// announce: tell the assistant now (a hidden /change_language message: it confirms in the new
// language and repeats the last answer in it). Otherwise only the page and customData follow.
function setLanguage(code, announce) {
  if (!supported(code) || code === state.language) return;
  state.language = code;
  try {
    storage("localStorage")?.setItem(LANGUAGE_KEY, code);
  } catch (error) {
    // the choice lasts as long as the page
  }
  applyTexts();
  if (announce) send("/change_language" + JSON.stringify({ language: code }), null);
}

// --- status and typing --------------------------------------------------------------------------

function showStatus(text) {
  window.clearTimeout(statusTimer);
  let message = text;
  if (message === undefined) {
    if (state.connected) message = "";
    else message = state.lost ? texts().offline : texts().connecting;
  }
  // Live regions stay in the page (an empty one takes no room): only their text changes.
  if (status.textContent !== message) status.textContent = message;
  status.classList.toggle("warning", !state.connected && state.lost);
}

function updateTyping() {
  const waiting = state.connected && state.pending.some((p) => p.sent);
  typing.classList.toggle("active", waiting);
  const text = waiting ? texts().typing : "";
  if (el("typing-text").textContent !== text) el("typing-text").textContent = text;
}

// --- rendering ----------------------------------------------------------------------------------

function scrollTo(element, block) {
  element.scrollIntoView({ block, behavior: reducedMotion.matches ? "auto" : "smooth" });
}

function renderItem(item) {
  if (item.type === "user") {
    const bubble = renderUser(item, state.i18n, state.language);
    if (state.pending.some((p) => p.id === item.id && !p.sent)) markQueued(bubble, true);
    return bubble;
  }
  return renderTurn(item, state.i18n, choose);
}

function markQueued(bubble, queued) {
  const note = bubble.querySelector(".queued");
  if (queued && !note) {
    const span = document.createElement("span");
    span.className = "queued";
    span.lang = state.language;
    span.textContent = texts().queued;
    bubble.append(span);
  } else if (!queued && note) {
    note.remove();
  }
}

function bubbleOf(id) {
  return Array.from(log.querySelectorAll(".message.user")).find((b) => b.dataset.id === id) || null;
}

function choose({ title, payload, feedback }) {
  const code = changeLanguageCode(payload);
  if (code) setLanguage(code, false); // this very message already carries the new language
  send(payload, title);
  save();
  if (feedback) input.focus(); // the pressed button is disabled now
}

// --- sending ------------------------------------------------------------------------------------

// display: what the log shows for it (null: a hidden command, e.g. /greet).
function send(message, display) {
  const id = newId();
  if (display !== null) {
    const item = { type: "user", id, text: display, lang: state.language };
    state.items.push(item);
    const bubble = renderUser(item, state.i18n, state.language);
    log.append(bubble);
    scrollTo(bubble, "end");
  }
  state.pending.push({ id, message, language: state.language, hidden: display === null, sent: false });
  save();
  flush();
}

function flush() {
  for (const pending of state.pending) {
    const bubble = bubbleOf(pending.id);
    if (!state.connected) {
      if (bubble) markQueued(bubble, true);
      continue;
    }
    if (pending.sent) continue;
    socket.emit("user_uttered", {
      message: pending.message,
      session_id: state.sessionId,
      customData: { language: pending.language },
      message_id: pending.id,
    });
    pending.sent = true;
    if (bubble) markQueued(bubble, false);
  }
  updateTyping();
}

// --- receiving ----------------------------------------------------------------------------------

function answered(id) {
  return id && state.items.some((item) => item.type === "bot" && item.reply_to === id);
}

function onBotMessage(message) {
  if (!message || typeof message !== "object") return;
  const meta = message.metadata && typeof message.metadata === "object" ? message.metadata : {};
  const replyTo = typeof meta.reply_to === "string" ? meta.reply_to : null;
  const key = typeof meta.turn === "string" ? meta.turn : replyTo || "";
  const turn = turns.get(key) || { messages: [], replyTo, language: null, dir: null, timer: null };
  turns.set(key, turn);
  const { metadata, ...content } = message;
  turn.messages.push(content);
  if (typeof meta.language === "string") turn.language = meta.language;
  if (typeof meta.dir === "string") turn.dir = meta.dir;
  window.clearTimeout(turn.timer);
  if (meta.last === true) finishTurn(key);
  else turn.timer = window.setTimeout(() => finishTurn(key), TURN_IDLE_MS);
}

function finishTurn(key) {
  const turn = turns.get(key);
  if (!turn) return;
  turns.delete(key);
  window.clearTimeout(turn.timer);
  // A message sent again after a reconnection may be answered twice: shown once.
  if (answered(turn.replyTo)) return;
  const replyId = turn.replyTo;
  const language = supported(turn.language) ? turn.language : state.language;
  const item = {
    type: "bot",
    reply_to: replyId,
    language,
    dir: turn.dir || state.i18n.languages[language].dir,
    messages: turn.messages,
  };
  state.pending = state.pending.filter((p) => p.id !== replyId);
  // The question was in the language it was answered in (as far as the assistant could tell).
  const question = replyId && state.items.find((i) => i.type === "user" && i.id === replyId);
  if (question && supported(turn.language)) {
    question.lang = turn.language;
    bubbleOf(replyId)?.setAttribute("lang", turn.language);
  }
  state.items.push(item);
  const card = renderItem(item);
  log.append(card);
  // The page follows the conversation's language, unless the user has asked more since.
  if (supported(turn.language) && !state.pending.length) {
    setLanguage(turn.language, false);
  }
  save();
  updateTyping();
  scrollTo(card, "start");
}

// --- connection ---------------------------------------------------------------------------------

function socketAddress(setting) {
  const value = (setting || "").trim();
  if (!value) return window.location.origin;
  if (/^:\d{1,5}$/.test(value)) return `${window.location.protocol}//${window.location.hostname}${value}`;
  return new URL(value).origin;
}

function connect(config) {
  socket = window.io(socketAddress(config.socket_url), {
    path: "/socket.io/",
    reconnectionDelay: 500,
    reconnectionDelayMax: 4000,
    timeout: 10000,
  });
  socket.on("connect", () => {
    socket.emit("session_request", { session_id: state.sessionId });
  });
  socket.on("session_confirm", (id) => {
    const wasLost = state.lost;
    if (typeof id === "string" && id) state.sessionId = id;
    else if (id && typeof id === "object" && typeof id.session_id === "string") state.sessionId = id.session_id;
    state.connected = true;
    state.lost = false;
    if (!state.items.length && !state.pending.length) send("/greet", null);
    save();
    flush();
    if (wasLost && state.items.length) {
      showStatus(texts().reconnected);
      statusTimer = window.setTimeout(() => showStatus(), RECONNECTED_MS);
    } else {
      showStatus();
    }
  });
  socket.on("disconnect", (reason) => {
    state.connected = false;
    state.lost = true;
    // Unanswered messages go again after the reconnection (an answer that comes twice is shown once).
    for (const pending of state.pending) pending.sent = false;
    flush();
    showStatus();
    if (reason === "io server disconnect") socket.connect(); // the server closed it: try again
  });
  socket.on("connect_error", () => {
    state.lost = true;
    showStatus();
  });
  socket.on("bot_uttered", onBotMessage);
}

// --- start --------------------------------------------------------------------------------------

async function load(name) {
  const response = await fetch(name, { cache: "no-cache" });
  if (!response.ok) throw new Error(`${name}: ${response.status}`);
  return response.json();
}

async function start() {
  let config;
  try {
    [state.i18n, config] = await Promise.all([load("i18n.json"), load("config.json")]);
  } catch (error) {
    status.textContent = `Kotobot: ${error.message} (scripts/build-web.sh)`;
    return;
  }
  fillPicker();
  state.language = initialLanguage();
  restore();
  log.setAttribute("aria-busy", "true"); // the restored conversation is not announced again
  for (const item of state.items) log.append(renderItem(item));
  log.removeAttribute("aria-busy");
  applyTexts();
  if (state.items.length) log.lastElementChild.scrollIntoView({ block: "start" });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, text);
  });
  select.addEventListener("change", () => setLanguage(select.value, true));
  connect(config);
}

start();
