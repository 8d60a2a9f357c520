// A small Markdown renderer for model replies. It builds DOM nodes and puts text in them only
// through text nodes, so nothing a model writes is ever parsed as HTML. It covers what chat
// models write: paragraphs, headings, lists (nested by indentation), block quotes, rules,
// fenced code blocks (with a copy button), inline code, bold, italic and links (http, https
// and mailto only). An unclosed fence renders as code so far, so replies render while they
// stream.
(function (global) {
  'use strict';

  const SAFE_URL = /^(https?:\/\/|mailto:)/i;
  const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
  const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
  const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
  const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
  const QUOTE = /^ {0,3}>\s?(.*)$/;
  // Code spans, links, bold, italic: the first that starts earliest wins.
  const INLINE = new RegExp([
    /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/.source,          // 1, 2: `code`
    /\[([^\]\n]+)\]\(\s*([^)\s]+)\s*\)/.source,            // 3, 4: [text](url)
    /(\*\*|__)(?=\S)([\s\S]*?\S)\5/.source,                // 5, 6: **bold**
    /(\*|_)(?=[^\s*_])([\s\S]*?[^\s*_])\7/.source,          // 7, 8: *italic*
  ].join('|'), 'g');

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function isWordChar(c) {
    return c !== undefined && /[A-Za-z0-9]/.test(c);
  }

  function renderInline(text, parent) {
    let last = 0;
    INLINE.lastIndex = 0;
    const pending = [];
    let m;
    while ((m = INLINE.exec(text)) !== null) {
      // `_` emphasis only at word edges (snake_case stays text).
      if ((m[5] === '__' || m[7] === '_') &&
          (isWordChar(text[m.index - 1]) || isWordChar(text[INLINE.lastIndex]))) {
        INLINE.lastIndex = m.index + 1;
        continue;
      }
      pending.push({ index: m.index, end: INLINE.lastIndex, m: m.slice() });
    }
    for (const p of pending) {
      if (p.index < last) continue;
      appendText(parent, text.slice(last, p.index));
      const m = p.m;
      if (m[1] !== undefined) {
        parent.appendChild(el('code', null, m[2].replace(/^ (.*) $/, '$1')));
      } else if (m[3] !== undefined) {
        const url = m[4].replace(/^<|>$/g, '');
        if (SAFE_URL.test(url)) {
          const a = el('a');
          a.href = url;
          a.rel = 'noopener noreferrer nofollow';
          a.target = '_blank';
          renderInline(m[3], a);
          parent.appendChild(a);
        } else {
          appendText(parent, m[0]);
        }
      } else if (m[5] !== undefined) {
        const strong = el('strong');
        renderInline(m[6], strong);
        parent.appendChild(strong);
      } else {
        const em = el('em');
        renderInline(m[8], em);
        parent.appendChild(em);
      }
      last = p.end;
    }
    appendText(parent, text.slice(last));
  }

  function appendText(parent, text) {
    if (text) parent.appendChild(document.createTextNode(text));
  }

  // A paragraph's lines, joined by line breaks (chat replies mean their newlines).
  function renderLines(lines, parent) {
    lines.forEach((line, i) => {
      if (i > 0) parent.appendChild(el('br'));
      renderInline(line.trim(), parent);
    });
  }

  function copyText(text, button) {
    const done = (ok) => {
      button.textContent = ok ? 'Copied' : 'Copy failed';
      setTimeout(() => { button.textContent = 'Copy'; }, 1500);
    };
    if (navigator.clipboard && global.isSecureContext) {
      navigator.clipboard.writeText(text).then(() => done(true), () => done(false));
      return;
    }
    // Plain http on another host: the old way, through a selected off-screen text area.
    const area = el('textarea', 'offscreen');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    area.remove();
    done(ok);
  }

  function codeBlock(lang, text) {
    const box = el('div', 'code-block');
    const head = el('div', 'code-head');
    head.appendChild(el('span', 'code-lang', lang || 'code'));
    const button = el('button', 'copy-code', 'Copy');
    button.type = 'button';
    button.setAttribute('aria-label', 'Copy the ' + (lang ? lang + ' ' : '') + 'code');
    button.addEventListener('click', () => copyText(text, button));
    head.appendChild(button);
    box.appendChild(head);
    const pre = el('pre');
    pre.tabIndex = 0;  // long lines scroll: keyboard users reach the scroll box
    const code = el('code', null, text);
    if (lang) code.dataset.lang = lang;
    pre.appendChild(code);
    box.appendChild(pre);
    return box;
  }

  // Lines of a list, nested by indentation, into ul/ol elements.
  function renderList(lines, parent) {
    const stack = [];  // {indent, list, item}
    for (const line of lines) {
      const m = LIST_ITEM.exec(line);
      if (!m) {  // a continuation line of the current item
        const top = stack[stack.length - 1];
        top.item.appendChild(el('br'));
        renderInline(line.trim(), top.item);
        continue;
      }
      const indent = m[1].replace(/\t/g, '    ').length;
      const ordered = /\d/.test(m[2]);
      while (stack.length && indent < stack[stack.length - 1].indent) stack.pop();
      let top = stack[stack.length - 1];
      if (!top || indent > top.indent + 1) {
        const list = el(ordered ? 'ol' : 'ul');
        if (ordered && parseInt(m[2], 10) !== 1) list.start = parseInt(m[2], 10);
        (top ? top.item : parent).appendChild(list);
        top = { indent: indent, list: list, item: null };
        stack.push(top);
      }
      const item = el('li');
      renderInline(m[3], item);
      top.list.appendChild(item);
      top.item = item;
    }
  }

  function renderBlocks(src, parent) {
    const lines = src.replace(/\r\n?/g, '\n').split('\n');
    let i = 0;
    let paragraph = [];
    const flush = () => {
      if (!paragraph.length) return;
      const p = el('p');
      renderLines(paragraph, p);
      parent.appendChild(p);
      paragraph = [];
    };
    while (i < lines.length) {
      const line = lines[i];
      let m;
      if ((m = FENCE.exec(line))) {
        flush();
        const fence = m[1];
        const body = [];
        i++;
        while (i < lines.length && !(lines[i].trim().startsWith(fence[0].repeat(fence.length)) &&
                                     lines[i].trim().replace(/[`~]/g, '') === '')) {
          body.push(lines[i]);
          i++;
        }
        i++;  // the closing fence
        parent.appendChild(codeBlock(m[2], body.join('\n')));
        continue;
      }
      if (!line.trim()) { flush(); i++; continue; }
      if ((m = HEADING.exec(line))) {
        flush();
        // Reply headings sit below the page's own h2 (the conversation title).
        const h = el('h' + Math.min(6, m[1].length + 2));
        renderInline(m[2], h);
        parent.appendChild(h);
        i++;
        continue;
      }
      if (RULE.test(line)) { flush(); parent.appendChild(el('hr')); i++; continue; }
      if (QUOTE.test(line)) {
        flush();
        const inner = [];
        while (i < lines.length && (m = QUOTE.exec(lines[i]))) { inner.push(m[1]); i++; }
        const quote = el('blockquote');
        renderBlocks(inner.join('\n'), quote);
        parent.appendChild(quote);
        continue;
      }
      if (LIST_ITEM.test(line)) {
        flush();
        const items = [];
        while (i < lines.length && lines[i].trim() &&
               (LIST_ITEM.test(lines[i]) || /^\s+\S/.test(lines[i])) && !FENCE.test(lines[i])) {
          items.push(lines[i]);
          i++;
        }
        renderList(items, parent);
        continue;
      }
      paragraph.push(line);
      i++;
    }
    flush();
  }

  // Replaces the children of `container` with `src` rendered.
  function render(src, container) {
    const fragment = document.createDocumentFragment();
    renderBlocks(String(src || ''), fragment);
    container.replaceChildren(fragment);
  }

  global.FoundryMarkdown = { render: render };
})(window);
