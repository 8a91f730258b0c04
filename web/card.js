// Kotobot's web chat page: one card per answer, from the messages of one bot turn.
//
// The assistant writes light Markdown (bot/content/replies.py): a **bold** line as the title, text
// paragraphs, "1. " steps, "- " lists, an "Official information:" line followed by
// "- Title: https://…" links (a page in another language: "- Title (English): https://…"), a
// date line, and buttons (quick replies) after the text they belong to. Everything is built
// with DOM methods and textContent: nothing from the assistant or the user is ever parsed as
// HTML, and only http(s) links become links.
"use strict";

const BOLD_LINE = /^\*\*(.+)\*\*$/;
const ORDERED = /^(\d{1,3})[.)]\s+(.+)$/;
const BULLET = /^[-*•]\s+(.+)$/;
const LINK_ITEM = /^[-*•]\s+(.+?):\s+(https?:\/\/\S+)$/;
const MARKED_TITLE = /^(.*\S)\s+\(([^()]+)\)$/;
const DATE = /\b(\d{4}-\d{2}-\d{2})\b/;
const INLINE = /\*\*(.+?)\*\*|\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>"]+)/g;
const FEEDBACK = /^\/feedback_(positive|negative)$/;
const CHANGE_LANGUAGE = /^\/change_language(\{.*\})$/;

let counter = 0;
const newId = (prefix) => `${prefix}-${Date.now().toString(36)}-${(counter += 1)}`;

function node(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") element.className = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return element;
}

/** The URL if it is an absolute http(s) address, else null (javascript:, data:, …). */
export function safeUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch (error) {
    return null;
  }
}

/** The language a language button switches to (payload /change_language{"language":"xx"}). */
export function changeLanguageCode(payload) {
  const match = CHANGE_LANGUAGE.exec(payload || "");
  if (!match) return null;
  try {
    const value = JSON.parse(match[1]).language;
    return typeof value === "string" ? value : null;
  } catch (error) {
    return null;
  }
}

function link(url, texts, attributes, ...children) {
  return node(
    "a",
    { href: url.href, target: "_blank", rel: "noopener noreferrer", ...attributes },
    ...children,
    node("span", { className: "sr-only", lang: texts.code }, ` (${texts.new_tab})`),
  );
}

/** Inline Markdown as DOM nodes: **bold**, [text](https://…) and bare https:// addresses. */
export function inline(text, texts) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    const [whole, bold, label, target, bare] = match;
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    last = match.index + whole.length;
    if (bold !== undefined) {
      nodes.push(node("strong", null, ...inline(bold, texts)));
    } else if (label !== undefined) {
      const url = safeUrl(target);
      nodes.push(url ? link(url, texts, {}, label) : document.createTextNode(whole));
    } else {
      // A sentence's full stop or closing bracket is not part of the address.
      const trimmed = bare.replace(/[.,;:!?)\]'»”]+$/u, "");
      const url = safeUrl(trimmed);
      nodes.push(url ? link(url, texts, { dir: "ltr" }, trimmed) : document.createTextNode(trimmed));
      last -= bare.length - trimmed.length;
    }
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function lineKind(line) {
  if (LINK_ITEM.test(line) && safeUrl(LINK_ITEM.exec(line)[2])) return "link";
  if (ORDERED.test(line)) return "ordered";
  if (BULLET.test(line)) return "bullet";
  return "text";
}

/** A turn's texts as blocks: {kind: heading|text|ordered|bullet|sources|meta, ...}. */
export function parseBlocks(text) {
  const blocks = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const lines = paragraph.split("\n").map((line) => line.trim()).filter(Boolean);
    let index = 0;
    while (index < lines.length) {
      const line = lines[index];
      const bold = BOLD_LINE.exec(line);
      if (bold && !bold[1].includes("**")) {
        blocks.push({ kind: "heading", text: bold[1] });
        index += 1;
        continue;
      }
      const kind = lineKind(line);
      let end = index + 1;
      while (end < lines.length && lineKind(lines[end]) === kind && kind !== "text") end += 1;
      if (kind === "text") {
        // Text lines up to the next list; a line ending in ":" before links names them.
        while (end < lines.length && lineKind(lines[end]) === "text" && !BOLD_LINE.test(lines[end])) {
          end += 1;
        }
        const texts = lines.slice(index, end);
        if (end < lines.length && lineKind(lines[end]) === "link" && /[:：]$/.test(texts[texts.length - 1])) {
          const label = texts.pop();
          if (texts.length) blocks.push({ kind: "text", lines: texts });
          let stop = end + 1;
          while (stop < lines.length && lineKind(lines[stop]) === "link") stop += 1;
          blocks.push({ kind: "sources", label, items: lines.slice(end, stop).map(linkItem) });
          index = stop;
          continue;
        }
        const metaLine = texts.length === 1 && DATE.test(texts[0]) && texts[0].length <= 160;
        blocks.push(metaLine ? { kind: "meta", text: texts[0] } : { kind: "text", lines: texts });
      } else if (kind === "link") {
        blocks.push({ kind: "sources", label: null, items: lines.slice(index, end).map(linkItem) });
      } else {
        const pattern = kind === "ordered" ? ORDERED : BULLET;
        const items = lines.slice(index, end).map((item) => {
          const match = pattern.exec(item);
          return kind === "ordered" ? { number: Number(match[1]), text: match[2] } : { text: match[1] };
        });
        blocks.push({ kind, items });
      }
      index = end;
    }
  }
  return blocks;
}

function linkItem(line) {
  const [, title, url] = LINK_ITEM.exec(line);
  const marked = MARKED_TITLE.exec(title);
  return { title, url, base: marked ? marked[1] : title, mark: marked ? marked[2] : null };
}

function site(url) {
  return url.hostname.replace(/^www\./, "");
}

function renderSources(block, card, i18n) {
  const texts = card.texts;
  const byName = new Map(i18n.order.map((code) => [i18n.languages[code].name, code]));
  const list = node("ul", { className: "sources-list" });
  let foreign = false;
  for (const item of block.items) {
    const url = safeUrl(item.url);
    const code = item.mark ? byName.get(item.mark) : null;
    const title = code ? item.base : item.title;
    // A page in another language: the whole item is in that language and its direction.
    const entry = node("li", code ? { lang: code, dir: i18n.languages[code].dir } : null);
    entry.append(
      link(
        url,
        texts,
        {},
        node("bdi", { className: "site", dir: "ltr" }, site(url)),
        " — ",
        node("bdi", { className: "link-title" }, title),
      ),
    );
    if (code) {
      foreign = true;
      entry.append(" ", node("span", { className: "page-language" }, `(${item.mark})`));
    }
    list.append(entry);
  }
  const section = node("section", { className: "sources" });
  if (block.label) {
    const id = newId("sources");
    section.setAttribute("aria-labelledby", id);
    section.append(node("h3", { id }, block.label));
  }
  section.append(list);
  if (foreign) section.append(node("p", { className: "note" }, texts.pages_other_language));
  return section;
}

function renderBlock(block, card, i18n) {
  const texts = card.texts;
  switch (block.kind) {
    case "heading":
      return node(card.hasTitle ? "h3" : "h2", { className: card.hasTitle ? null : "card-title" }, ...inline(block.text, texts));
    case "ordered":
      return node(
        "ol",
        { className: "steps", start: block.items[0].number !== 1 ? block.items[0].number : null },
        ...block.items.map((item) => node("li", null, ...inline(item.text, texts))),
      );
    case "bullet":
      return node("ul", null, ...block.items.map((item) => node("li", null, ...inline(item.text, texts))));
    case "sources":
      return renderSources(block, card, i18n);
    case "meta": {
      const paragraph = node("p", { className: "meta" });
      const [before, date, after] = block.text.split(DATE);
      paragraph.append(...inline(before, texts), node("time", { datetime: date }, date), ...inline(after || "", texts));
      return paragraph;
    }
    default: {
      const paragraph = node("p");
      block.lines.forEach((line, index) => {
        if (index) paragraph.append(node("br"));
        paragraph.append(...inline(line, texts));
      });
      return paragraph;
    }
  }
}

function renderButtons(buttons, message, card, i18n, onChoice, labelId) {
  const feedback = buttons.every((button) => FEEDBACK.test(button.payload || ""));
  const group = node("div", {
    className: feedback ? "choices feedback" : "choices",
    role: "group",
    "aria-labelledby": labelId,
  });
  for (const button of buttons) {
    const code = changeLanguageCode(button.payload);
    const known = code && i18n.languages[code];
    const element = node(
      "button",
      {
        type: "button",
        className: "choice",
        lang: known ? code : null,
        dir: known ? i18n.languages[code].dir : null,
        "data-payload": button.payload,
        "aria-pressed": feedback ? String(message.chosen === button.payload) : null,
        disabled: feedback && message.chosen ? true : null,
      },
      button.title,
    );
    element.addEventListener("click", () => {
      if (feedback) {
        message.chosen = button.payload;
        for (const other of group.querySelectorAll("button")) {
          other.setAttribute("aria-pressed", String(other === element));
          other.disabled = true;
        }
      }
      onChoice({ title: button.title, payload: button.payload, feedback });
    });
    group.append(element);
  }
  return group;
}

/**
 * One card for a bot turn: turn = {language, dir, messages: [{text, quick_replies|buttons}]}.
 * onChoice({title, payload, feedback}) is called when a button is pressed.
 */
export function renderTurn(turn, i18n, onChoice) {
  const language = i18n.languages[turn.language] ? turn.language : "en";
  const dir = turn.dir === "rtl" || turn.dir === "ltr" ? turn.dir : i18n.languages[language].dir;
  const card = { language, texts: { ...i18n.languages[language], code: language }, hasTitle: false };
  const article = node("article", { className: "card bot", lang: language, dir });
  article.append(node("span", { className: "sr-only" }, "Kotobot: "));
  for (const message of turn.messages) {
    const text = typeof message.text === "string" ? message.text : "";
    let lastText = null;
    for (const block of parseBlocks(text)) {
      const element = renderBlock(block, card, i18n);
      if (block.kind === "heading" && !card.hasTitle) {
        card.hasTitle = true;
        article.setAttribute("aria-labelledby", (element.id = newId("card")));
      }
      if (block.kind === "text" || block.kind === "heading") lastText = element;
      article.append(element);
    }
    const buttons = (message.quick_replies || message.buttons || []).filter(
      (button) => button && typeof button.title === "string" && typeof button.payload === "string",
    );
    if (buttons.length) {
      // A question just before its buttons ("Was this answer helpful?") names their group.
      let labelId = null;
      if (lastText && article.lastElementChild === lastText) labelId = lastText.id || (lastText.id = newId("choices"));
      article.append(renderButtons(buttons, message, card, i18n, onChoice, labelId));
    }
  }
  return article;
}

/** A message the user wrote (or a button they pressed): plain text, never markup. Its `lang` is
 * the language it was written in as far as known (the page's, then the reply's); "You:" for
 * screen readers is in the page's language `ui`. */
export function renderUser(item, i18n, ui) {
  const texts = i18n.languages[ui] || i18n.languages.en;
  return node(
    "div",
    { className: "message user", lang: item.lang, dir: "auto", "data-id": item.id },
    node("span", { className: "sr-only", lang: ui, "data-role": "who" }, `${texts.you}: `),
    node("p", { dir: "auto" }, item.text),
  );
}
