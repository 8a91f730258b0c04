// Kotobot's web chat page: the rasa-webchat 1.0.1 widget, a language picker and the page's texts.
//
// Query parameters (all optional):
//   ?lang=xx        start in language xx (else the last choice, else the browser's language)
//   ?socket=URL     Rasa's socket.io server; only another port of this page's own host is accepted
//                   (default: same host, port 5005), so a link cannot point the page at another bot
"use strict";

(function () {
  const LANGUAGE_KEY = "kotobot.language";
  const FALLBACK_LANGUAGE = "en";
  const params = new URLSearchParams(window.location.search);
  const el = (id) => document.getElementById(id);
  const chat = el("chat"), select = el("language"), status = el("status");

  let i18n = null; // {order: [...], languages: {code: {name, dir, title, privacy, ...}}}
  // The one customData object the widget is given: its socket sends this very object with every
  // user message, so changing .language here changes the metadata of all later messages.
  const customData = { language: FALLBACK_LANGUAGE };
  const webchat = { current: null }; // the widget's handle: sendMessage(payload), getSessionId()
  let connected = false;

  function texts() {
    return i18n.languages[customData.language];
  }

  function socketUrl() {
    const fallback = `${window.location.protocol}//${window.location.hostname}:5005`;
    const wanted = params.get("socket");
    if (!wanted) return fallback;
    try {
      const url = new URL(wanted);
      const web = url.protocol === "http:" || url.protocol === "https:";
      if (web && url.hostname === window.location.hostname) return url.origin;
    } catch (error) {
      // not a URL: use the default
    }
    console.warn("kotobot: ignoring ?socket=", wanted);
    return fallback;
  }

  function storedLanguage() {
    try {
      return window.localStorage.getItem(LANGUAGE_KEY);
    } catch (error) {
      return null;
    }
  }

  function initialLanguage() {
    const supported = (code) => code && Object.prototype.hasOwnProperty.call(i18n.languages, code);
    const candidates = [params.get("lang"), storedLanguage()];
    for (const tag of navigator.languages || [navigator.language]) {
      candidates.push((tag || "").toLowerCase().slice(0, 2));
    }
    return candidates.find(supported) || FALLBACK_LANGUAGE;
  }

  function fillPicker() {
    for (const code of i18n.order) {
      const option = document.createElement("option");
      option.value = code;
      option.lang = code;
      option.dir = i18n.languages[code].dir;
      option.textContent = i18n.languages[code].name;
      select.append(option);
    }
  }

  function setStatus() {
    status.textContent = connected ? "" : texts().connecting;
    status.hidden = connected;
  }

  // Page texts, document language and direction (ar, fa: right to left).
  function applyTexts() {
    const t = texts();
    const root = document.documentElement;
    root.lang = customData.language;
    root.dir = t.dir;
    document.title = t.title;
    el("heading").textContent = t.heading;
    el("subtitle").textContent = t.subtitle;
    el("language-label").textContent = t.language_label;
    el("privacy").textContent = t.privacy;
    chat.setAttribute("aria-label", t.title);
    chat.dir = t.dir;
    select.value = customData.language;
    setStatus();
  }

  // rasa-webchat 1.0.1 renders messages without `dir` and with `text-align: left`, its input and
  // send button without labels: fix that on whatever it renders (and re-renders).
  function patchWidget() {
    const t = texts();
    chat.querySelectorAll(".rw-client, .rw-response, .rw-reply, .rw-new-message").forEach((node) => {
      if (!node.hasAttribute("dir")) node.setAttribute("dir", "auto");
    });
    const log = chat.querySelector(".rw-messages-container");
    if (log && log.getAttribute("role") !== "log") {
      log.setAttribute("role", "log");
      log.setAttribute("aria-live", "polite");
    }
    if (log) log.setAttribute("aria-label", t.subtitle);
    const input = chat.querySelector(".rw-new-message");
    if (input && input.placeholder !== t.input_hint) input.placeholder = t.input_hint;
    if (input && input.getAttribute("aria-label") !== t.input_hint) {
      input.setAttribute("aria-label", t.input_hint);
    }
    const send = chat.querySelector(".rw-send");
    if (send && send.getAttribute("aria-label") !== t.send) send.setAttribute("aria-label", t.send);
    chat.querySelectorAll(".rw-send img").forEach((img) => {
      if (img.alt !== t.send) img.alt = t.send;
    });
    chat.querySelectorAll("a[href]").forEach((link) => {
      if (link.target !== "_blank") link.target = "_blank";
      if (link.rel !== "noopener noreferrer") link.rel = "noopener noreferrer";
    });
  }

  // Rendered once. A language switch changes customData in place and the texts in the DOM
  // (patchWidget): the widget's socket, which holds customData, is created once per widget, 1.0.1
  // offers no way to unmount one, and in embedded mode the widget shows no title of its own.
  function renderWidget() {
    const t = texts();
    window.WebChat.default(
      {
        socketUrl: socketUrl(),
        socketPath: "/socket.io/",
        customData,
        initPayload: "/greet",
        embedded: true,
        withRules: false,
        hideWhenNotConnected: false,
        showCloseButton: false,
        showFullScreenButton: false,
        // The conversation survives reloads, and is forgotten when the tab is closed.
        params: { storage: "session" },
        title: t.heading,
        subtitle: t.subtitle,
        inputTextFieldHint: t.input_hint,
        connectingText: t.connecting,
        mainColor: "#0b5cad",
        userBackgroundColor: "#0b5cad",
        userTextColor: "#ffffff",
        assistBackgoundColor: "#eef1f5", // sic: the widget's prop name
        assistTextColor: "#111111",
        customMessageDelay: () => 250,
        innerRef: webchat,
        onSocketEvent: {
          connect: () => {
            connected = true;
            setStatus();
          },
          disconnect: () => {
            connected = false;
            setStatus();
          },
        },
      },
      chat,
    );
  }

  function sendHidden(payload) {
    if (webchat.current && webchat.current.sendMessage) {
      webchat.current.sendMessage(payload); // no text: the widget shows nothing for it
    } else {
      window.setTimeout(() => sendHidden(payload), 200);
    }
  }

  // announce: tell the assistant now (a hidden /change_language message; it confirms in the new
  // language). Without it, the next message's customData.language switches the conversation.
  function setLanguage(code, announce) {
    if (!i18n.languages[code] || code === customData.language) return;
    customData.language = code;
    try {
      window.localStorage.setItem(LANGUAGE_KEY, code);
    } catch (error) {
      // storage disabled: the choice lasts as long as the page
    }
    applyTexts();
    patchWidget();
    if (announce) sendHidden("/change_language" + JSON.stringify({ language: code }));
  }

  async function start() {
    try {
      const response = await fetch("i18n.json", { cache: "no-cache" });
      i18n = await response.json();
    } catch (error) {
      status.textContent = "Kotobot: i18n.json is missing (run: python -m bot.web_i18n)";
      return;
    }
    fillPicker();
    customData.language = initialLanguage();
    applyTexts();
    new MutationObserver(patchWidget).observe(chat, { childList: true, subtree: true });
    renderWidget();
    patchWidget();
    select.addEventListener("change", () => setLanguage(select.value, true));
    // The assistant's own language buttons (labelled with language names, payload
    // /change_language{...}): keep the picker and the page in step. This listener runs before the
    // widget's (React listens on the document), so the button's message already carries the new
    // customData.language.
    const byName = new Map(i18n.order.map((code) => [i18n.languages[code].name, code]));
    chat.addEventListener("click", (event) => {
      const reply = event.target.closest && event.target.closest(".rw-reply");
      const code = reply && byName.get(reply.textContent.trim());
      if (code) setLanguage(code, false);
    });
  }

  start();
})();
