// The chat page of `foundry service`: picks and loads a model, streams replies from
// /v1/chat/completions (server-sent events read from fetch's ReadableStream), keeps
// conversations in localStorage. Every URL is relative, so the page works on any host and
// port. Text from the model or the user is only ever set as text (FoundryMarkdown builds
// nodes), never as HTML.
(function () {
  'use strict';

  const STORE_CONVERSATIONS = 'foundry.chat.conversations';
  const STORE_CURRENT = 'foundry.chat.current';
  const STORE_SETTINGS = 'foundry.chat.settings';
  const DEFAULT_SETTINGS = {
    model: '',
    system: 'You are a helpful assistant.',
    temperature: 0.7,
    top_p: 0.95,
    max_tokens: 1024,
    apiKey: '',
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    menu: $('menu-toggle'), sidebar: $('sidebar'), model: $('model'), load: $('load-model'),
    refresh: $('refresh-models'), progress: $('load-progress'), status: $('model-status-text'),
    newChat: $('new-chat'), list: $('conversations'), rename: $('rename-chat'),
    exportChat: $('export-chat'), remove: $('delete-chat'), system: $('system-prompt'),
    temperature: $('temperature'), topP: $('top-p'), maxTokens: $('max-tokens'),
    apiKey: $('api-key'), title: $('chat-title'), messages: $('messages'), composer: $('composer'),
    prompt: $('prompt'), send: $('send'), stop: $('stop'), dialog: $('dialog'),
    dialogForm: $('dialog-form'), dialogTitle: $('dialog-title'), dialogText: $('dialog-text'),
    dialogLabel: $('dialog-label'), dialogInput: $('dialog-input'),
    dialogCancel: $('dialog-cancel'),
  };

  // ---- storage ----------------------------------------------------------------------------

  function readJson(key, fallback) {
    try {
      const v = JSON.parse(localStorage.getItem(key));
      return v === null ? fallback : v;
    } catch (e) {
      return fallback;
    }
  }

  function writeJson(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      showStatus('Could not save in the browser\'s storage: ' + e.message);
    }
  }

  const settings = Object.assign({}, DEFAULT_SETTINGS, readJson(STORE_SETTINGS, {}));
  let conversations = readJson(STORE_CONVERSATIONS, []);
  if (!Array.isArray(conversations)) conversations = [];
  let currentId = readJson(STORE_CURRENT, null);

  function saveSettings() { writeJson(STORE_SETTINGS, settings); }
  function saveConversations() {
    writeJson(STORE_CONVERSATIONS, conversations);
    writeJson(STORE_CURRENT, currentId);
  }

  function newId() {
    return Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 8);
  }

  function current() {
    let c = conversations.find((x) => x.id === currentId);
    if (!c) {
      c = { id: newId(), title: 'New conversation', created: Date.now(), messages: [] };
      conversations.unshift(c);
      currentId = c.id;
    }
    return c;
  }

  // ---- talking to the service --------------------------------------------------------------

  class ServiceError extends Error {
    constructor(status, message, code) {
      super(message);
      this.status = status;
      this.code = code || null;
    }
  }

  async function errorFrom(res) {
    let message = res.statusText || 'HTTP ' + res.status;
    let code = null;
    try {
      const body = await res.json();
      if (body && body.error) {
        message = body.error.message || message;
        code = body.error.code || null;
      }
    } catch (e) { /* not JSON: keep the status text */ }
    return new ServiceError(res.status, message, code);
  }

  let askingKey = null;  // one API-key dialog at a time

  // fetch with the API key; a 401 asks for the key once and retries with it.
  async function call(path, init) {
    const go = () => {
      const headers = Object.assign({}, (init && init.headers) || {});
      if (settings.apiKey) headers.Authorization = 'Bearer ' + settings.apiKey;
      return fetch(path, Object.assign({}, init, { headers: headers }));
    };
    let res = await go();
    if (res.status === 401) {
      if (!askingKey) {
        askingKey = ask({
          title: 'API key needed',
          text: 'This service asks for an API key. It is kept in this browser only.',
          label: 'API key', value: '', secret: true,
        }).finally(() => { askingKey = null; });
      }
      const key = await askingKey;
      if (key !== null && key.trim()) {
        settings.apiKey = key.trim();
        ui.apiKey.value = settings.apiKey;
        saveSettings();
        res = await go();
      }
    }
    return res;
  }

  async function getJson(path) {
    const res = await call(path);
    if (!res.ok) throw await errorFrom(res);
    return res.json();
  }

  // ---- models -----------------------------------------------------------------------------

  let models = [];  // {id, label, loaded}
  let loading = null;

  function formatSize(mb) {
    if (typeof mb !== 'number' || !(mb > 0)) return '';
    return mb >= 1024 ? (mb / 1024).toFixed(1) + ' GB' : Math.round(mb) + ' MB';
  }

  function baseName(path) {
    return path.split(/[\\/]/).pop();
  }

  async function refreshModels() {
    let listed, loaded, catalog;
    try {
      [listed, loaded, catalog] = await Promise.all([
        getJson('/v1/models'), getJson('/openai/loadedmodels'),
        getJson('/foundry/list').catch(() => []),
      ]);
    } catch (e) {
      showStatus('Cannot list the models: ' + describe(e));
      return;
    }
    const byId = new Map((Array.isArray(catalog) ? catalog : []).map((m) => [m.name, m]));
    const loadedSet = new Set(Array.isArray(loaded) ? loaded : []);
    models = ((listed && listed.data) || []).map((m) => {
      const entry = byId.get(m.id);
      const name = entry ? entry.alias || entry.displayName || m.id : baseName(m.id);
      const size = entry ? formatSize(entry.fileSizeMb) : '';
      const isLoaded = loadedSet.has(m.id);
      const parts = [name, size, isLoaded ? 'loaded' : ''].filter(Boolean);
      return { id: m.id, label: parts.join(' \u00b7 '), loaded: isLoaded };
    });
    renderModels();
  }

  function renderModels() {
    const keep = ui.model.value || settings.model;
    ui.model.replaceChildren();
    if (!models.length) {
      const o = document.createElement('option');
      o.value = '';
      o.textContent = 'No cached models (foundry model download NAME)';
      ui.model.appendChild(o);
    }
    for (const m of models) {
      const o = document.createElement('option');
      o.value = m.id;
      o.textContent = m.label;
      o.title = m.id;
      ui.model.appendChild(o);
    }
    if (models.some((m) => m.id === keep)) ui.model.value = keep;
    settings.model = ui.model.value;
    saveSettings();
    updateModelState();
  }

  function selectedModel() {
    return models.find((m) => m.id === ui.model.value) || null;
  }

  function updateModelState() {
    const m = selectedModel();
    ui.load.disabled = !m || m.loaded || !!loading;
    ui.load.textContent = m && m.loaded ? 'Loaded' : 'Load';
    if (!loading) {
      if (!m) showStatus(models.length ? '' : 'No model to chat with yet.');
      else showStatus(m.loaded ? 'Ready.' : 'Not loaded: it loads with the first message.');
    }
  }

  function showStatus(text) {
    ui.status.textContent = text;
  }

  // Loads the chosen model, showing the time it takes; resolves when it is loaded.
  function loadModel(id) {
    if (loading && loading.id === id) return loading.promise;
    const started = performance.now();
    ui.progress.hidden = false;
    const tick = () => {
      const s = Math.round((performance.now() - started) / 1000);
      showStatus('Loading ' + id + '\u2026 ' + s + ' s');
    };
    tick();
    const timer = setInterval(tick, 500);
    const promise = (async () => {
      try {
        const res = await call('/openai/load/' + encodeURIComponent(id) + '?ttl=600');
        if (!res.ok) throw await errorFrom(res);
      } finally {
        clearInterval(timer);
        ui.progress.hidden = true;
        loading = null;
      }
      const s = ((performance.now() - started) / 1000).toFixed(1);
      await refreshModels();
      showStatus('Loaded ' + id + ' in ' + s + ' s.');
    })();
    loading = { id: id, promise: promise };
    updateModelState();
    promise.catch((e) => {
      showStatus('Could not load ' + id + ': ' + describe(e));
      updateModelState();
    });
    return promise;
  }

  // ---- conversations ----------------------------------------------------------------------

  function renderConversationList() {
    ui.list.replaceChildren();
    for (const c of conversations) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'conversation';
      b.textContent = c.title || 'Untitled';
      if (c.id === currentId) b.setAttribute('aria-current', 'true');
      b.addEventListener('click', () => {
        if (streaming) return;
        currentId = c.id;
        saveConversations();
        renderAll();
        closeMenuOnNarrow();
        ui.prompt.focus();
      });
      li.appendChild(b);
      ui.list.appendChild(li);
    }
  }

  function renderAll() {
    const c = current();
    ui.title.textContent = c.title || 'Untitled';
    renderConversationList();
    ui.messages.replaceChildren();
    if (!c.messages.length) {
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = 'Pick a model, then write a message below.';
      ui.messages.appendChild(p);
    }
    for (const m of c.messages) ui.messages.appendChild(messageView(m));
    scrollToEnd(true);
  }

  function newConversation() {
    if (streaming) return;
    const c = current();
    if (c.messages.length) {
      const fresh = { id: newId(), title: 'New conversation', created: Date.now(), messages: [] };
      conversations.unshift(fresh);
      currentId = fresh.id;
    }
    saveConversations();
    renderAll();
    closeMenuOnNarrow();
    ui.prompt.focus();
  }

  async function renameConversation() {
    const c = current();
    const title = await ask({ title: 'Rename conversation', label: 'Title', value: c.title });
    if (title === null || !title.trim()) return;
    c.title = title.trim().slice(0, 200);
    c.renamed = true;
    saveConversations();
    renderAll();
  }

  async function deleteConversation() {
    if (streaming) return;
    const c = current();
    const ok = await ask({ title: 'Delete conversation', text: 'Delete \u201c' + c.title +
                           '\u201d from this browser? This cannot be undone.', confirm: 'Delete' });
    if (ok === null) return;
    conversations = conversations.filter((x) => x.id !== c.id);
    currentId = conversations.length ? conversations[0].id : null;
    current();
    saveConversations();
    renderAll();
  }

  function exportConversation() {
    const c = current();
    const data = JSON.stringify(Object.assign({ format: 'foundry-chat/1' }, c), null, 2);
    const url = URL.createObjectURL(new Blob([data], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = (c.title || 'conversation').replace(/[^\w.-]+/g, '_').slice(0, 80) + '.json';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // ---- dialog -----------------------------------------------------------------------------

  // Resolves with the text entered (or '' for a confirmation), or null when cancelled.
  function ask(opts) {
    return new Promise((resolve) => {
      const d = ui.dialog;
      const returnFocus = document.activeElement;
      ui.dialogTitle.textContent = opts.title;
      ui.dialogText.textContent = opts.text || '';
      ui.dialogText.hidden = !opts.text;
      const hasInput = opts.label !== undefined;
      ui.dialogLabel.textContent = opts.label || '';
      ui.dialogLabel.hidden = !hasInput;
      ui.dialogInput.hidden = !hasInput;
      ui.dialogInput.type = opts.secret ? 'password' : 'text';
      ui.dialogInput.value = opts.value || '';
      $('dialog-ok').textContent = opts.confirm || 'OK';
      let answer = null;
      const onSubmit = (e) => {
        e.preventDefault();
        answer = hasInput ? ui.dialogInput.value : '';
        d.close();
      };
      const onCancel = () => d.close();
      const onClose = () => {
        ui.dialogForm.removeEventListener('submit', onSubmit);
        ui.dialogCancel.removeEventListener('click', onCancel);
        d.removeEventListener('close', onClose);
        if (returnFocus && returnFocus.focus) returnFocus.focus();
        resolve(answer);
      };
      ui.dialogForm.addEventListener('submit', onSubmit);
      ui.dialogCancel.addEventListener('click', onCancel);
      d.addEventListener('close', onClose);
      d.showModal();
      (hasInput ? ui.dialogInput : $('dialog-ok')).focus();
      if (hasInput) ui.dialogInput.select();
    });
  }

  // ---- messages ---------------------------------------------------------------------------

  function messageView(m) {
    const article = document.createElement('article');
    article.className = 'message ' + m.role;
    const who = document.createElement('h3');
    who.className = 'who';
    who.textContent = m.role === 'user' ? 'You' : 'Assistant';
    article.appendChild(who);
    if (m.role === 'user') {
      const body = document.createElement('div');
      body.className = 'text plain';
      body.textContent = m.content;
      article.appendChild(body);
    } else {
      fillReply(article, m);
    }
    return article;
  }

  function folded(summaryText, className, text) {
    const d = document.createElement('details');
    d.className = className;
    const s = document.createElement('summary');
    s.textContent = summaryText;
    d.appendChild(s);
    const pre = document.createElement('pre');
    pre.textContent = text;
    d.appendChild(pre);
    return d;
  }

  // (Re)draws an assistant message: reasoning and tool calls folded, the text as Markdown,
  // the stats or the error under it.
  function fillReply(article, m) {
    const who = article.querySelector('.who');
    article.replaceChildren(who);
    if (m.reasoning) {
      const open = article.dataset.reasoningOpen === 'true';
      const d = folded('Reasoning', 'reasoning', m.reasoning);
      d.open = open;
      d.addEventListener('toggle', () => { article.dataset.reasoningOpen = String(d.open); });
      article.appendChild(d);
    }
    const body = document.createElement('div');
    body.className = 'text markdown';
    window.FoundryMarkdown.render(m.content, body);
    article.appendChild(body);
    if (m.tool_calls && m.tool_calls.length) {
      for (const t of m.tool_calls) {
        const name = (t.function && t.function.name) || 'tool';
        const args = (t.function && t.function.arguments) || '';
        article.appendChild(folded('Tool call: ' + name, 'tool-call', args));
      }
    }
    if (m.pending && !m.content && !m.reasoning) {
      const p = document.createElement('p');
      p.className = 'waiting';
      p.textContent = m.waiting || 'Waiting for the first token\u2026';
      article.appendChild(p);
    }
    if (m.error) {
      const p = document.createElement('p');
      p.className = 'error';
      p.setAttribute('role', 'alert');
      p.textContent = m.error;
      article.appendChild(p);
    }
    const stats = statsText(m);
    if (stats) {
      const p = document.createElement('p');
      p.className = 'stats';
      p.textContent = stats;
      article.appendChild(p);
    }
  }

  function statsText(m) {
    if (!m.stats) return m.stopped ? 'Stopped.' : '';
    const s = m.stats;
    const parts = [];
    if (s.tokens) parts.push((s.exact ? '' : '\u2248') + s.tokens + ' tokens');
    if (s.tokensPerSecond) parts.push(s.tokensPerSecond.toFixed(1) + ' tokens/s');
    if (s.ttftMs !== null && s.ttftMs !== undefined) {
      parts.push('TTFT ' + (s.ttftMs / 1000).toFixed(2) + ' s');
    }
    if (m.stopped) parts.push('stopped');
    else if (m.finish === 'length') parts.push('cut at max tokens');
    return parts.join(' \u00b7 ');
  }

  function scrollToEnd(force) {
    const el = ui.messages;
    const nearEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 120;
    if (force || nearEnd) el.scrollTop = el.scrollHeight;
  }

  // What the person reads for a failed request.
  function describe(e) {
    if (!(e instanceof ServiceError)) {
      return 'Cannot reach the service (' + (e && e.message ? e.message : e) + '). Is it running?';
    }
    if (e.status === 503) return 'The service is busy (' + e.message + '). Try again in a moment.';
    if (e.status === 404) return 'Model not found: ' + e.message;
    if (e.status === 401) return 'The service needs an API key (Settings): ' + e.message;
    if (e.status === 400 && e.code === 'context_length_exceeded') {
      return 'The conversation is longer than the model\u2019s context: ' + e.message +
             ' Start a new conversation or lower Max tokens.';
    }
    return 'The service answered ' + e.status + ': ' + e.message;
  }

  // ---- sending ----------------------------------------------------------------------------

  let streaming = null;  // {controller, reply, article}

  function setStreaming(on) {
    ui.send.hidden = on;
    ui.stop.hidden = !on;
    for (const b of [ui.newChat, ui.remove, ui.load, ui.model]) b.disabled = on;
    if (!on) updateModelState();
  }

  function requestMessages(c) {
    const out = [];
    if (settings.system.trim()) out.push({ role: 'system', content: settings.system });
    for (const m of c.messages) {
      if (m.pending) continue;
      if (m.role === 'assistant' && !m.content) continue;  // failed replies are not history
      out.push({ role: m.role, content: m.content });
    }
    return out;
  }

  function numberOr(value, fallback) {
    const n = Number(value);
    return value === '' || !Number.isFinite(n) ? fallback : n;
  }

  async function send() {
    const text = ui.prompt.value.trim();
    const model = ui.model.value;
    if (!text || streaming) return;
    if (!model) {
      showStatus('Pick a model first (none is cached: foundry model download NAME).');
      ui.model.focus();
      return;
    }
    const c = current();
    c.messages.push({ role: 'user', content: text });
    if (!c.renamed && c.messages.length === 1) c.title = text.replace(/\s+/g, ' ').slice(0, 60);
    const body = {
      model: model,
      messages: requestMessages(c),
      stream: true,
      stream_options: { include_usage: true },
      temperature: numberOr(settings.temperature, DEFAULT_SETTINGS.temperature),
      top_p: numberOr(settings.top_p, DEFAULT_SETTINGS.top_p),
      max_tokens: Math.round(numberOr(settings.max_tokens, DEFAULT_SETTINGS.max_tokens)),
    };
    const reply = { role: 'assistant', content: '', model: model, pending: true };
    c.messages.push(reply);
    c.updated = Date.now();
    ui.prompt.value = '';
    saveConversations();
    renderAll();
    const article = ui.messages.lastElementChild;
    article.setAttribute('aria-busy', 'true');  // screen readers read the reply once, whole
    streaming = { controller: new AbortController(), reply: reply, article: article };
    setStreaming(true);
    try {
      const m = selectedModel();
      if (m && !m.loaded) {
        reply.waiting = 'Loading the model\u2026';
        fillReply(article, reply);
        await Promise.race([loadModel(model), aborted(streaming.controller.signal)]);
        reply.waiting = null;
        fillReply(article, reply);
      }
      await stream(body, reply, article, streaming.controller.signal);
    } catch (e) {
      if (e && e.name === 'AbortError') reply.stopped = true;
      else reply.error = describe(e);
    } finally {
      delete reply.pending;
      delete reply.waiting;
      streaming = null;
      article.removeAttribute('aria-busy');
      c.updated = Date.now();
      saveConversations();
      fillReply(article, reply);
      setStreaming(false);
      scrollToEnd(false);
      ui.prompt.focus();
    }
  }

  function aborted(signal) {
    return new Promise((_, reject) => {
      signal.addEventListener('abort', () => reject(new DOMException('stopped', 'AbortError')));
    });
  }

  // Streams one reply into `reply`, redrawing `article` at most once per frame.
  async function stream(body, reply, article, signal) {
    const started = performance.now();
    let first = null;
    let pieces = 0;
    let usage = null;
    let drawQueued = false;
    const draw = () => {
      if (drawQueued) return;
      drawQueued = true;
      requestAnimationFrame(() => {
        drawQueued = false;
        fillReply(article, reply);
        scrollToEnd(false);
      });
    };
    const finishStats = () => {
      const end = performance.now();
      const tokens = usage ? usage.completion_tokens : pieces;
      const decodeSeconds = first === null ? 0 : (end - first) / 1000;
      reply.stats = {
        tokens: tokens,
        exact: !!usage,
        ttftMs: first === null ? null : Math.round(first - started),
        tokensPerSecond: tokens > 1 && decodeSeconds > 0 ? (tokens - 1) / decodeSeconds : null,
      };
    };
    const onEvent = (data) => {
      if (data === '[DONE]') return;
      let chunk;
      try { chunk = JSON.parse(data); } catch (e) { return; }
      if (chunk.error) {
        reply.error = 'The service stopped the reply: ' + (chunk.error.message || 'error');
        return;
      }
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices || []) {
        const d = choice.delta || {};
        let got = false;
        if (typeof d.content === 'string' && d.content) {
          reply.content += d.content;
          got = true;
        }
        if (typeof d.reasoning_content === 'string' && d.reasoning_content) {
          reply.reasoning = (reply.reasoning || '') + d.reasoning_content;
          got = true;
        }
        if (Array.isArray(d.tool_calls)) {
          mergeToolCalls(reply, d.tool_calls);
          got = true;
        }
        if (got) {
          pieces++;
          if (first === null) first = performance.now();
        }
        if (choice.finish_reason) reply.finish = choice.finish_reason;
      }
      draw();
    };
    try {
      const res = await call('/v1/chat/completions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: signal,
      });
      if (!res.ok) throw await errorFrom(res);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event.split('\n').filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).replace(/^ /, '')).join('\n');
          if (data) onEvent(data);
        }
      }
    } finally {
      finishStats();
    }
  }

  // Tool-call deltas arrive in pieces keyed by index: the id and name once, the arguments
  // as text to append.
  function mergeToolCalls(reply, deltas) {
    reply.tool_calls = reply.tool_calls || [];
    for (const t of deltas) {
      const i = typeof t.index === 'number' ? t.index : reply.tool_calls.length;
      if (!reply.tool_calls[i]) {
        reply.tool_calls[i] = { id: '', type: 'function', function: { name: '', arguments: '' } };
      }
      const call = reply.tool_calls[i];
      if (t.id) call.id = t.id;
      if (t.function) {
        if (t.function.name) call.function.name += t.function.name;
        if (t.function.arguments) call.function.arguments += t.function.arguments;
      }
    }
  }

  function stop() {
    if (streaming) streaming.controller.abort();
  }

  // ---- wiring -----------------------------------------------------------------------------

  function closeMenuOnNarrow() {
    if (ui.menu.offsetParent !== null) setMenu(false);
  }

  function setMenu(open) {
    ui.menu.setAttribute('aria-expanded', String(open));
    document.body.classList.toggle('menu-open', open);
    if (open) ui.newChat.focus();
  }

  function bindSetting(input, key, parse) {
    input.value = settings[key];
    input.addEventListener('change', () => {
      settings[key] = parse ? parse(input.value) : input.value;
      saveSettings();
    });
  }

  function init() {
    bindSetting(ui.system, 'system');
    ui.system.addEventListener('input', () => {
      settings.system = ui.system.value;
      saveSettings();
    });
    bindSetting(ui.temperature, 'temperature', (v) => numberOr(v, DEFAULT_SETTINGS.temperature));
    bindSetting(ui.topP, 'top_p', (v) => numberOr(v, DEFAULT_SETTINGS.top_p));
    bindSetting(ui.maxTokens, 'max_tokens', (v) => numberOr(v, DEFAULT_SETTINGS.max_tokens));
    bindSetting(ui.apiKey, 'apiKey', (v) => v.trim());

    ui.model.addEventListener('change', () => {
      settings.model = ui.model.value;
      saveSettings();
      updateModelState();
    });
    ui.load.addEventListener('click', () => { if (ui.model.value) loadModel(ui.model.value); });
    ui.refresh.addEventListener('click', refreshModels);
    ui.newChat.addEventListener('click', newConversation);
    ui.rename.addEventListener('click', renameConversation);
    ui.remove.addEventListener('click', deleteConversation);
    ui.exportChat.addEventListener('click', exportConversation);
    ui.menu.addEventListener('click', () => {
      setMenu(ui.menu.getAttribute('aria-expanded') !== 'true');
    });
    ui.composer.addEventListener('submit', (e) => { e.preventDefault(); send(); });
    ui.stop.addEventListener('click', stop);
    ui.prompt.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        send();
      }
    });
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      if (streaming) { e.preventDefault(); stop(); }
      else if (document.body.classList.contains('menu-open')) { setMenu(false); ui.menu.focus(); }
    });

    current();
    saveConversations();
    renderAll();
    refreshModels();
  }

  init();
})();
