"""One item's rating controls, drawn in the browser (Streamlit custom components v2).

A click shows its consequence at once (relevance appears with `partial` or `yes`; timeframe and
sources hide for `omit`) without waiting for the server; the change is then sent to Python as a
trigger, saved through the service, and the item's status follows ("Saving…", then "Saved 10:31:02
UTC"). Typed evidence is sent after a short pause in typing and when the box is left; until the
server confirms it, the text is also kept in the tab's `sessionStorage`, so a reload brings it back
and sends it, and closing the tab asks first.

The controls are generated from `data` (see `control_data`): each choice group says when it is
shown (`show`: the presence values it appears for) and whether the rating waits for it
(`required`), so a group such as an omit reason is one more entry, not new code. Every text put
into the HTML is escaped first (`esc`), as SECURITY.md 19 asks; nothing the user types is ever
put into `innerHTML` (a textarea's value is set as a property).

The JS keeps, per field, the value last adopted from the server (`base`): a change is sent with
it, so the service can merge a stale change field by field. A field edited after the last change
the server acknowledged (`ack`) is never overwritten by data from a rerun.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

HTML = """
<div class="ifi-item"></div>
"""

CSS = """
:host { display: block; }
.ifi-item { font-family: var(--st-font, sans-serif); color: var(--st-text-color, #262730);
  font-size: 0.95rem; }
.ifi-row { display: flex; flex-wrap: wrap; gap: 0.4rem 1.5rem; align-items: flex-start; }
.ifi-grid { display: grid; grid-template-columns: minmax(16rem, 2fr) minmax(16rem, 3fr);
  gap: 0.75rem 1.5rem; }
@media (max-width: 720px) { .ifi-grid { grid-template-columns: 1fr; } }
fieldset { border: 0; margin: 0 0 0.6rem 0; padding: 0; min-width: 0; }
legend, .ifi-label { font-size: 0.875rem; margin-bottom: 0.25rem; padding: 0; }
.ifi-seg { display: inline-flex; flex-wrap: wrap; border: 1px solid #c3c5cc;
  border-radius: 0.5rem; overflow: hidden; }
.ifi-seg label { position: relative; cursor: pointer; }
.ifi-seg input { position: absolute; inset: 0; width: 100%; height: 100%; margin: 0;
  opacity: 0; cursor: pointer; z-index: 1; }
.ifi-seg span { display: inline-block; padding: 0.3rem 0.8rem; border-right: 1px solid #c3c5cc;
  background: #fff; user-select: none; }
.ifi-seg label:last-child span { border-right: 0; }
.ifi-seg input:checked + span { background: #1a4f8b; color: #fff; }
.ifi-seg input:focus-visible + span { outline: 3px solid #1a4f8b; outline-offset: -3px;
  box-shadow: inset 0 0 0 5px #fff; }
.ifi-help { font-size: 0.8rem; color: #505561; margin: 0.25rem 0 0 0; max-width: 36rem; }
.ifi-help dt { font-weight: 600; display: inline; }
.ifi-help dd { display: inline; margin: 0; }
.ifi-help div { margin-bottom: 0.1rem; }
textarea { width: 100%; box-sizing: border-box; min-height: 5.5rem; font: inherit;
  padding: 0.45rem 0.6rem; border: 1px solid #c3c5cc; border-radius: 0.5rem; resize: vertical; }
textarea:focus-visible { outline: 2px solid #1a4f8b; }
.ifi-sources { display: flex; flex-wrap: wrap; gap: 0.2rem 0.9rem; align-items: center; }
.ifi-sources label { cursor: pointer; white-space: nowrap; }
.ifi-sources input:focus-visible { outline: 2px solid #1a4f8b; outline-offset: 2px; }
button.ifi-all { font: inherit; font-size: 0.8rem; padding: 0.15rem 0.6rem; cursor: pointer;
  border: 1px solid #c3c5cc; border-radius: 0.4rem; background: #fff; color: inherit; }
button.ifi-all:focus-visible { outline: 2px solid #1a4f8b; }
.ifi-status { font-size: 0.8rem; color: #505561; min-height: 1.2rem; margin-top: 0.2rem; }
.ifi-status[data-kind="waiting"], .ifi-status[data-kind="unsaved"] { color: #7a4b00; }
.ifi-status[data-kind="error"] { color: #a4161a; }
.ifi-status[data-kind="saved"] { color: #1e6b34; }
.ifi-hidden { display: none !important; }
.ifi-note { font-size: 0.85rem; color: #505561; margin: 0.3rem 0; }
"""

JS = """
const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'
}[c]));
const DEBOUNCE_MS = 700;
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function shownFor(spec, values) {
  if (!spec.show) return true;
  return Object.entries(spec.show).every(([field, allowed]) => allowed.includes(values[field]));
}

function build(root, d) {
  const id = esc(d.id);
  const groups = d.groups.map((g) => {
    const name = `${id}-${esc(g.name)}`;
    const options = g.options.map((o) => `<label title="${esc(o.hint)}"><input type="radio"
      name="${name}" value="${esc(o.value)}"><span>${esc(o.label)}</span></label>`).join('');
    const help = (g.help || []).map((h) => `<div><dt>${esc(h.term)}</dt>
      <dd>— ${esc(h.text)}</dd></div>`).join('');
    return `<div class="ifi-group" data-group="${esc(g.name)}">
      <fieldset><legend id="${name}-legend">${esc(g.label)}</legend>
      <div class="ifi-seg" role="radiogroup" aria-labelledby="${name}-legend"
        ${help ? `aria-describedby="${name}-help"` : ''}>${options}</div>
      </fieldset>${help ? `<dl class="ifi-help" id="${name}-help">${help}</dl>` : ''}
    </div>`;
  }).join('');
  const s = d.sources;
  const boxes = s.options.map((o) => `<label title="${esc(o.hint)}"><input type="checkbox"
    value="${esc(o.value)}"> ${esc(o.label)}</label>`).join('');
  root.innerHTML = `<div class="ifi-grid">
    <div class="ifi-left">${groups}</div>
    <div class="ifi-right">
      <p class="ifi-note" data-part="first">${esc(d.first)}</p>
      <div data-part="evidence"><label class="ifi-label" for="${id}-evidence"
        data-part="evidence-label"></label>
        <textarea id="${id}-evidence" maxlength="${Number(d.evidence.max) || 20000}"
          placeholder="${esc(d.evidence.placeholder)}"></textarea></div>
      <fieldset data-part="sources"><legend>${esc(s.label)}</legend>
        <div class="ifi-sources">${boxes}
        <button type="button" class="ifi-all">${esc(s.all)}</button></div></fieldset>
    </div></div>
    <div class="ifi-status" role="status" aria-live="polite"></div>`;
}

function makeItem(root) {
  const it = {
    root, d: null, sig: '', model: {}, base: {}, edited: {}, seq: 0, ack: 0, reset: null,
    timer: null, send: null,
  };
  const storeKey = () => `ifi-unsaved:${it.d.storage}`;

  it.fields = () => [...it.d.groups.map((g) => g.name), 'sources', 'evidence'];
  it.edit = (field, value) => {
    it.model[field] = value;
    it.edited[field] = it.seq + 1;
  };
  it.dirty = () => it.fields().some((f) => (it.edited[f] || 0) > it.ack);
  it.waitingFor = () => it.d.groups.find((g) => g.required && shownFor(g, it.model)
    && it.model.presence && !it.model[g.name]);
  it.payload = (values) => {
    const out = {};
    it.fields().forEach((f) => { out[f] = values[f] ?? (f === 'sources' ? [] : null); });
    return out;
  };
  it.keep = () => {
    try {
      if (it.dirty()) {
        sessionStorage.setItem(storeKey(), JSON.stringify(
          { values: it.payload(it.model), base: it.payload(it.base) }));
      } else {
        sessionStorage.removeItem(storeKey());
      }
    } catch (e) { /* storage full or disabled: the unload warning still protects the text */ }
  };
  it.flush = () => {
    clearTimeout(it.timer);
    it.timer = null;
    if (!it.dirty() || !it.model.presence || it.waitingFor() || it.d.conflict) {
      it.status();
      return;
    }
    it.seq += 1;
    it.sent = it.seq;
    it.send('change', { seq: it.seq, values: it.payload(it.model), base: it.payload(it.base) });
    it.status();
  };
  it.later = () => {
    clearTimeout(it.timer);
    it.timer = setTimeout(it.flush, DEBOUNCE_MS);
  };
  it.status = () => {
    const el = root.querySelector('.ifi-status');
    let kind = 'saved';
    let text = it.d.saved || '';
    const waiting = it.waitingFor();
    if (it.d.conflict) {
      [kind, text] = ['error', it.d.conflict];
    } else if (it.d.error && it.ack >= (it.sent || 0)) {
      [kind, text] = ['error', it.d.error];
    } else if (waiting) {
      [kind, text] = ['waiting', `Not saved yet: choose the ${waiting.label.toLowerCase()} `
        + 'to save this rating.'];
    } else if (it.seq > it.ack) {
      [kind, text] = ['saving', 'Saving…'];
    } else if (it.dirty()) {
      [kind, text] = ['unsaved', 'Unsaved changes (saved when you pause typing)'];
    }
    el.dataset.kind = kind;
    el.dataset.ack = String(it.ack);
    if (el.textContent !== text) el.textContent = text;
    it.keep();
  };
  it.show = () => {
    const m = it.model;
    it.d.groups.forEach((g) => {
      const box = root.querySelector(`[data-group="${g.name}"]`);
      box.classList.toggle('ifi-hidden', !shownFor(g, m));
      box.querySelectorAll('input').forEach((input) => {
        input.checked = input.value === (m[g.name] ?? '');
      });
      const help = box.querySelector('.ifi-help');
      if (help && g.help_for_choice && m[g.name]) {
        help.querySelectorAll('div').forEach((row, i) => {
          row.classList.toggle('ifi-hidden', g.options[i] && g.options[i].value !== m[g.name]);
        });
      } else if (help) {
        help.querySelectorAll('div').forEach((row) => row.classList.remove('ifi-hidden'));
      }
    });
    const rated = Boolean(m.presence);
    const omitted = m.presence === 'omit';
    root.querySelector('[data-part="first"]').classList.toggle('ifi-hidden', rated);
    root.querySelector('[data-part="evidence"]').classList.toggle('ifi-hidden', !rated);
    root.querySelector('[data-part="sources"]').classList.toggle(
      'ifi-hidden', !rated || (omitted && !(m.sources || []).length));
    const label = root.querySelector('[data-part="evidence-label"]');
    label.textContent = omitted ? it.d.evidence.label_omit : it.d.evidence.label;
    const area = root.querySelector('textarea');
    area.placeholder = omitted ? it.d.evidence.placeholder_omit : it.d.evidence.placeholder;
    if (area.value !== (m.evidence ?? '')) area.value = m.evidence ?? '';
    const chosen = new Set(m.sources || []);
    root.querySelectorAll('.ifi-sources input').forEach((box) => {
      box.checked = chosen.has(box.value);
    });
    const all = root.querySelector('.ifi-all');
    const every = it.d.sources.options.every((o) => chosen.has(o.value));
    all.textContent = every ? it.d.sources.none : it.d.sources.all;
    it.status();
  };
  it.wire = () => {
    root.querySelectorAll('.ifi-group input').forEach((input) => {
      input.addEventListener('change', () => {
        const group = input.closest('[data-group]').dataset.group;
        it.edit(group, input.value || null);
        if (group === 'presence') {
          // Keep the document rule: relevance only with partial or yes.
          it.d.groups.filter((g) => g.name !== 'presence' && !shownFor(g, it.model))
            .forEach((g) => { if (it.model[g.name]) it.edit(g.name, null); });
        }
        it.show();
        it.flush();
      });
    });
    root.querySelectorAll('.ifi-sources input').forEach((box) => {
      box.addEventListener('change', () => {
        const picked = new Set(it.model.sources || []);
        if (box.checked) picked.add(box.value); else picked.delete(box.value);
        it.edit('sources', it.d.sources.options.map((o) => o.value).filter((v) => picked.has(v)));
        it.show();
        it.flush();
      });
    });
    root.querySelector('.ifi-all').addEventListener('click', () => {
      const every = it.d.sources.options.map((o) => o.value);
      const all = every.every((v) => (it.model.sources || []).includes(v));
      it.edit('sources', all ? [] : every);
      it.show();
      it.flush();
    });
    const area = root.querySelector('textarea');
    area.addEventListener('input', () => {
      it.edit('evidence', area.value);
      it.status();
      it.later();
    });
    area.addEventListener('blur', () => it.flush());
  };
  it.update = (d) => {
    const first = it.d === null;
    it.d = d;
    const sig = JSON.stringify([d.groups, d.sources, d.evidence, d.first]);
    if (sig !== it.sig) {
      build(root, d);
      it.sig = sig;
      it.wire();
    }
    // After a conflict is settled (`reset` changes) the fields that were sent show what is
    // stored, as after any save; text typed meanwhile was never sent and is kept and sent.
    const settled = it.reset !== null && d.reset !== it.reset;
    it.reset = d.reset;
    it.ack = Math.max(it.ack, d.ack || 0);
    if (first) it.seq = Math.max(it.seq, it.ack);
    it.fields().forEach((f) => {
      if ((it.edited[f] || 0) <= it.ack && !d.conflict) {
        it.model[f] = d.values[f];
        it.base[f] = d.values[f];
      }
    });
    if (first) it.restore();
    it.show();
    if (settled && it.dirty()) it.later();
  };
  it.restore = () => {
    // Text typed before a reload that the server never confirmed comes back and is sent.
    let kept = null;
    try {
      kept = JSON.parse(sessionStorage.getItem(storeKey()) || 'null');
    } catch (e) {
      kept = null;
    }
    if (!kept || !kept.values) return;
    const stored = it.payload(it.d.values);
    if (same(stored, kept.values)) {
      sessionStorage.removeItem(storeKey());
      return;
    }
    it.fields().forEach((f) => {
      if (!same(kept.values[f], kept.base[f])) {
        it.edit(f, kept.values[f]);
        it.base[f] = kept.base[f];
      }
    });
    setTimeout(it.flush, 0);
  };
  return it;
}

// One registry per page, however often the module is evaluated.
if (!window.__ifiItems) window.__ifiItems = { items: new WeakMap(), open: new Set() };
const registry = window.__ifiItems;
const { items, open } = registry;
if (!window.__ifiUnloadGuard) {
  window.__ifiUnloadGuard = true;
  window.addEventListener('beforeunload', (event) => {
    let unsaved = false;
    window.__ifiItems.open.forEach((it) => {
      if (it.dirty()) { it.keep(); it.flush(); unsaved = true; }
    });
    if (unsaved) {
      event.preventDefault();
      event.returnValue = '';
    }
  });
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector('.ifi-item');
  let it = items.get(root);
  if (!it) {
    it = makeItem(root);
    items.set(root, it);
  }
  it.send = setTriggerValue;
  open.add(it);
  it.update(data);
  return () => {
    if (it.dirty()) it.flush();
    open.delete(it);
  };
}
"""


@st.cache_resource
def _control() -> Any:
    """Register the component once per server (not on import), the same for every user."""
    return st.components.v2.component("ifi_item_control", html=HTML, css=CSS, js=JS)


def item_control(key: str, data: dict[str, Any], on_change: Callable[[], None]) -> Any:
    """Draw one item's controls; `on_change` runs (before the rerun) when a change arrives."""
    return _control()(key=key, data=data, on_change_change=on_change, width="stretch")
