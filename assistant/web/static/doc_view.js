() => {
  // Focus moves into the panel (its close button) from the "Open document" that opened it.
  const close = document.querySelector('#close-doc-btn');
  if (close) close.focus({preventScroll: true});
  setTimeout(() => {
    // The marked passage at the top of the document's own scroll box, below the close bar.
    const view = document.querySelector('#doc-view');
    const el = view && view.querySelector('.doc-passage');
    if (!el) return;
    const margin = parseFloat(getComputedStyle(el).scrollMarginTop) || 0;
    view.scrollTop += el.getBoundingClientRect().top - view.getBoundingClientRect().top - margin;
  }, 300);
}
