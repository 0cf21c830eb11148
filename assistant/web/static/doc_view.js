() => { setTimeout(() => {
  const el = document.querySelector('#doc-view .doc-passage');
  if (el) el.scrollIntoView({block: 'start', behavior: 'instant'});
}, 300); }
