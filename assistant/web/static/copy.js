async (text) => {
  // The confirmation goes into the page's status line beside the button (role=status, read out
  // by screen readers); it stays until the next copy, so no one has to catch it in time.
  const note = document.querySelector('#copy-note');
  const say = (msg) => { if (note) { note.textContent = ''; note.textContent = msg; } };
  if (!text || !text.startsWith('Question: ')) {  // no answer yet: nothing is copied
    say(text || 'Ask a question first: then its answer can be copied.');
    return text;
  }
  try {
    await navigator.clipboard.writeText(text);
    say('✓ Copied: the question, the answer and its references are on the clipboard.');
  } catch (e) {
    say('⚠ The browser did not allow copying: select the text in the box below and copy it.');
  }
  return text;
}
