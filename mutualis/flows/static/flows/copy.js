// The flow token's page: « Copier le jeton » puts the secret shown once on the clipboard and says
// so in the status line. Without script (or clipboard), the button stays hidden: the secret is
// selectable text.
document.querySelectorAll("[data-copy]").forEach((button) => {
  if (!navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    const status = document.querySelector(`[data-copy-status="${button.dataset.copy}"]`);
    if (!source) return;
    await navigator.clipboard.writeText(source.textContent.trim());
    if (status) status.textContent = status.dataset.done;
  });
});
