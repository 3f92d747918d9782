// The one-line embed for a ward's site:
//   <script src="https://CHAT-ADDRESS/web/widget.js" async></script>
// adds a button that opens the chat page (served by the bot) in a frame in the corner.
"use strict";
(function () {
  var TEXTS = {{texts}};
  var script = document.currentScript;
  if (!script || document.getElementById("doithoai-chat-button")) { return; }
  var base = new URL(".", new URL("..", script.src)).href;
  var start = script.getAttribute("data-start");
  var frame = null;
  var button = document.createElement("button");
  button.id = "doithoai-chat-button";
  button.type = "button";
  button.textContent = TEXTS.open;
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = "position:fixed;right:1rem;bottom:1rem;z-index:2147483647;font:inherit;font-size:1.05rem;" +
    "min-height:48px;padding:.6rem 1rem;border-radius:2rem;border:0;background:#0b4f9c;color:#fff;cursor:pointer;" +
    "box-shadow:0 2px 8px rgba(0,0,0,.3)";
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = base + (start ? "?start=" + encodeURIComponent(start) : "");
      frame.title = TEXTS.title;
      frame.id = "doithoai-chat-frame";
      frame.style.cssText = "position:fixed;right:1rem;bottom:4.5rem;z-index:2147483647;width:min(26rem,calc(100vw - 2rem));" +
        "height:min(40rem,calc(100vh - 6rem));border:1px solid #666;border-radius:.6rem;background:#fff;" +
        "box-shadow:0 4px 16px rgba(0,0,0,.3)";
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    var open = !frame.hidden;
    button.textContent = open ? TEXTS.close : TEXTS.open;
    button.setAttribute("aria-expanded", String(open));
    if (open) { frame.focus(); }
  });
  document.body.appendChild(button);
})();
