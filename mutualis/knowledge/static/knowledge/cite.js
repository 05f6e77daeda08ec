// Staff ticket page: « Insérer » writes the article's Markdown link into the followup being
// written (the textarea named by data-kb-target), at the cursor, gives the focus back to it and
// says so in the panel's status line.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-kb-cite-url]");
  if (!button) return;
  const field = document.getElementById(button.dataset.kbTarget);
  if (!field) return;
  const title = button.dataset.kbCiteTitle.replace(/([\[\]\\])/g, "\\$1");
  const link = `[${title}](${button.dataset.kbCiteUrl})`;
  const start = field.selectionStart ?? field.value.length;
  const end = field.selectionEnd ?? field.value.length;
  const before = field.value.slice(0, start);
  const spacer = before && !/\s$/.test(before) ? " " : "";
  field.value = before + spacer + link + field.value.slice(end);
  const caret = (before + spacer + link).length;
  field.focus();
  field.setSelectionRange(caret, caret);
  const status = document.getElementById("kb-cite-status");
  if (status) status.textContent = status.dataset.done;
});
