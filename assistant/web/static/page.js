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
    mark.scrollIntoView({block: 'center', behavior: 'instant'});
  }, true);
  document.addEventListener('click', function (ev) {
    const b = ev.target.closest ? ev.target.closest('button.open-doc') : null;
    if (!b) return;
    const box = document.querySelector('#open-doc-id textarea, #open-doc-id input');
    if (!box) return;
    box.value = b.getAttribute('data-passage');
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(function () { document.querySelector('#open-doc-btn').click(); }, 50);
  }, true);
  // On small screens, fold examples and feedback once the page has rendered them.
  let tries = 0;
  const fold = setInterval(function () {
    tries += 1;
    if (window.innerWidth >= 700 || tries > 40) { clearInterval(fold); return; }
    const open = document.querySelectorAll('.fold-mobile button.label-wrap.open');
    if (open.length) { open.forEach(function (b) { b.click(); }); clearInterval(fold); }
  }, 250);
})();
