// A minimal Socket.IO (protocol 5, Engine.IO 4) client over a WebSocket: connect, answer pings,
// and deliver events. Enough for the dashboard's live counters, with no third-party code.
(() => {
  "use strict";
  function connectLive(onEvent, onStatus) {
    let socket = null;
    let retry = 1000;
    let closed = false;

    function open() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      socket = new WebSocket(`${scheme}//${location.host}/socket.io/?EIO=4&transport=websocket`);
      socket.addEventListener("message", (message) => handle(String(message.data)));
      socket.addEventListener("close", () => {
        // After a refusal (or close()) there is no reconnecting: keep the status that said so.
        if (closed) return;
        onStatus("offline");
        setTimeout(open, retry);
        retry = Math.min(retry * 2, 30000);
      });
    }

    function handle(packet) {
      const type = packet[0];
      if (type === "0") socket.send("40");
      else if (type === "2") socket.send("3");
      else if (packet.startsWith("40")) { retry = 1000; onStatus("live"); }
      else if (packet.startsWith("44")) { closed = true; onStatus("refused"); socket.close(); }
      else if (packet.startsWith("41")) socket.close(); // the server left the namespace: reconnect
      else if (packet.startsWith("42")) {
        const [name, data] = JSON.parse(packet.slice(2));
        onEvent(name, data);
      }
    }

    open();
    return { close() { closed = true; if (socket) socket.close(); } };
  }
  window.conexoosLive = connectLive;
})();
