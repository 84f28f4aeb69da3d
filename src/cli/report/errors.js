// memmon report: counts the page's script errors into <html data-errors="N">
// (and their messages into data-error-messages), so a test that loads the
// page in a headless browser can read them from the DOM. Inlined first in
// <head>, before any other script runs. Counts: uncaught exceptions, failed
// loads, unhandled promise rejections, console.error calls and anything the
// page's Content-Security-Policy blocks (a fetch that slipped in).
(function () {
  'use strict';
  var root = document.documentElement;
  var messages = [];
  function record(message) {
    messages.push(String(message));
    root.setAttribute('data-errors', String(messages.length));
    root.setAttribute('data-error-messages', messages.join(' | '));
  }
  root.setAttribute('data-errors', '0');
  window.addEventListener('error', function (event) {
    var target = event.target;
    if (target && target !== window && (target.src || target.href)) {
      record('cannot load ' + (target.src || target.href));
    } else {
      record(event.message || 'error');
    }
  }, true);
  window.addEventListener('unhandledrejection', function (event) {
    record('unhandled rejection: ' + event.reason);
  });
  document.addEventListener('securitypolicyviolation', function (event) {
    record('blocked by the page policy: ' + event.blockedURI);
  });
  var consoleError = console.error;
  console.error = function () {
    record(Array.prototype.join.call(arguments, ' '));
    return consoleError.apply(console, arguments);
  };
})();
