(function () {
  function openDetails(el) {
    let d = el.closest('details');
    while (d) {
      d.open = true;
      d = d.parentElement && d.parentElement.closest('details');
    }
  }
  document.addEventListener('click', function (ev) {
    const a = ev.target.closest ? ev.target.closest('a[href^="#src-"]') : null;
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    const id = a.getAttribute('href').slice(1);
    let el = document.getElementById(id);
    const col = document.getElementById('sources-col');
    if (!el || (col && getComputedStyle(col).display === 'none')) {
      // Small screens, or an answer too old for the panel: the answer's own sources.
      el = document.querySelector('.m' + id);
      const fold = el && el.closest('details.msg-sources');
      if (fold) fold.classList.add('force');
    }
    if (!el) return;
    openDetails(el);
    const card = el.closest('.src') || el;
    const n = id.split('-').pop();
    const mark = card.querySelector('mark.q' + n) || card.querySelector('mark') || card;
    card.classList.remove('flash');
    void card.offsetWidth;
    card.classList.add('flash');
    setTimeout(function () { card.classList.remove('flash'); }, 2000);
    if (col && col.contains(mark) && getComputedStyle(col).display !== 'none') {
      // Scroll the sources column only: the answer beside it stays where the reader is.
      // The column is sticky inside the chat row: near the row's end part of it can sit above
      // or below the window, so the quote goes into the part of the column on screen.
      const box = col.getBoundingClientRect();
      const shownTop = Math.max(box.top, 0);
      const shown = Math.min(box.bottom, window.innerHeight) - shownTop;
      const top = mark.getBoundingClientRect().top - shownTop;
      // The quote's first line near the top: a span with its list can be taller than the
      // column, and centring it would put its start out of sight.
      col.scrollTop += top - Math.min(shown / 4, 80);
    } else {
      // On a phone the quote is in the answer's own sources: its first line in the upper
      // part of the screen (a long span centred would start above it).
      const tall = mark.getBoundingClientRect().height > window.innerHeight / 2;
      mark.scrollIntoView({block: tall ? 'start' : 'center', behavior: 'instant'});
    }
  }, true);
  // Screen readers read a message's label: gradio builds it from the raw content (our HTML).
  // Give each message the words a reader sees instead, sources fold and buttons left out.
  function labelMessages() {
    document.querySelectorAll('#chatbot [aria-label*="s message: "]').forEach(function (m) {
      const label = m.getAttribute('aria-label');
      if (label.indexOf('<') < 0) return;
      const c = m.cloneNode(true);
      c.querySelectorAll('details, button, svg').forEach(function (d) { d.remove(); });
      const who = label.slice(0, label.indexOf("'s message: "));
      const words = c.innerText.replace(/\s+/g, ' ').trim();
      m.setAttribute('aria-label', who + "'s message: " + words);
    });
  }
  new MutationObserver(labelMessages).observe(document.documentElement,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['aria-label']});
  // The "Open document" button that opened the panel: focus goes back to it when the panel
  // closes (doc_view.js moves it into the panel when it opens).
  let opener = null;
  new MutationObserver(function (ms) {
    for (const m of ms) {
      if (m.target.id !== 'doc-sidebar' || m.target.classList.contains('open')) continue;
      if (!/(^|\s)open(\s|$)/.test(m.oldValue || '')) continue;  // closed just now
      const f = document.activeElement;
      // Only focus left in the closed panel (or nowhere) goes back: not a click elsewhere.
      const inPanel = !f || f === document.body || m.target.contains(f);
      if (opener && opener.isConnected && inPanel) opener.focus({preventScroll: true});
    }
  }).observe(document.documentElement,
    {subtree: true, attributes: true, attributeOldValue: true, attributeFilter: ['class']});
  document.addEventListener('click', function (ev) {
    const b = ev.target.closest ? ev.target.closest('button.open-doc') : null;
    if (!b) return;
    opener = b;
    const box = document.querySelector('#open-doc-id textarea, #open-doc-id input');
    if (!box) return;
    // A card in a chat message keeps its class only (gradio's sanitiser drops data-*).
    const cls = [...b.classList].find(function (c) { return c.indexOf('pid-') === 0; });
    box.value = b.getAttribute('data-passage') || (cls ? cls.slice(4) : '');
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(function () { document.querySelector('#open-doc-btn').click(); }, 50);
  }, true);
  // Escape closes the document panel (its "Close document" button does the same).
  document.addEventListener('keydown', function (ev) {
    if (ev.key !== 'Escape') return;
    const t = document.querySelector('#doc-sidebar.open .toggle-button');
    if (t) t.click();
  });
  // On small screens, fold examples and feedback once the page has rendered them.
  let tries = 0;
  const fold = setInterval(function () {
    tries += 1;
    if (window.innerWidth >= 700 || tries > 40) { clearInterval(fold); return; }
    const open = document.querySelectorAll('.fold-mobile button.label-wrap.open');
    if (open.length) { open.forEach(function (b) { b.click(); }); clearInterval(fold); }
  }, 250);
})();
