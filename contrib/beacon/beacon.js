// accesslens screen beacon: reports screen resolution and colour depth through the access log.
// Add <script src="/beacon.js" async></script> to your pages and serve an empty response (or a
// 1x1 GIF) at /collect; accesslens reads res and cd from the /collect lines of the log.
(function () {
  var s = window.screen;
  new Image().src = "/collect?res=" + s.width + "x" + s.height + "&cd=" + s.colorDepth + "&r=" + Date.now();
})();
