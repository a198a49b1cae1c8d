// The live feed: one WebSocket to the daemon's /ws (the session cookie authenticates it), opened
// again with a growing delay whenever it drops. The page decides what a message means; this only
// says whether the feed is live and hands each message over.

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;

// Close codes by which the daemon says "not signed in" (or no longer).
const AUTH_CLOSE_CODES = new Set([1008, 4401, 4403]);

export function webSocketUrl(path = "/ws") {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

/**
 * LiveFeed({onMessage, onStatus, onAuthLost}).start()
 *   onMessage({type, data})  each message, parsed
 *   onStatus(live)           true once the daemon said hello, false whenever the socket is down
 *   onAuthLost()             the daemon refused the socket (not signed in); the feed still retries,
 *                            with backoff, unless stop() is called
 */
export class LiveFeed {
  constructor({ onMessage, onStatus, onAuthLost, url = webSocketUrl() }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.onAuthLost = onAuthLost;
    this.retryMs = FIRST_RETRY_MS;
    this.socket = null;
    this.retryTimer = null;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.socket) this.socket.close(1000, "the page signed out");
    this.socket = null;
    this.onStatus(false);
  }

  connect() {
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.addEventListener("message", (event) => this.receive(event));
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  receive(event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return; // not ours to interpret; the next message will do
    }
    if (message.type === "hello") {
      this.retryMs = FIRST_RETRY_MS; // a good connection: the next drop starts the backoff afresh
      this.onStatus(true);
    }
    this.onMessage(message);
  }

  closed(socket, event) {
    if (socket !== this.socket) return; // an older socket's late close
    this.socket = null;
    this.onStatus(false);
    if (this.stopped) return;
    if (AUTH_CLOSE_CODES.has(event.code)) this.onAuthLost?.(); // the page may stop() us from there
    if (!this.stopped) this.scheduleRetry();
  }

  scheduleRetry() {
    clearTimeout(this.retryTimer);
    const jitter = Math.random() * 0.3 * this.retryMs; // many pages do not all come back at once
    this.retryTimer = setTimeout(() => this.connect(), this.retryMs + jitter);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }
}
