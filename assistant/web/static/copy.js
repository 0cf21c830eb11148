async (text) => {
  try { await navigator.clipboard.writeText(text); }
  catch (e) { console.warn('clipboard unavailable: select the text below and copy it'); }
  return text;
}
