// Runs before the app: applies the saved (or system) theme so a dark-mode user never sees a white flash.
/* global localStorage, window, matchMedia, document */
(function () {
  var theme;
  try {
    theme = JSON.parse(localStorage.getItem('relaychat.theme') || 'null');
  } catch {
    theme = null;
  }
  if (theme !== 'light' && theme !== 'dark') {
    theme = window.matchMedia && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }
  document.documentElement.setAttribute('data-theme', theme);
})();
