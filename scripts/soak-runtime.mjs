// The local runtime behind `npm run soak`: its processes and their memory, read from /proc, and
// (`--gc`) full garbage collections before each sample, through the inspector every workerd of
// `npm start` serves, so the figures show what the runtime keeps rather than garbage V8 has not
// collected yet. workerd does not answer the inspector's HeapProfiler.collectGarbage; a heap
// snapshot runs a full collection first, so that is what this asks for (and throws it away).
import { readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";

function proc(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
    return { pid: Number(pid), ppid: Number(after[1]), cmd, rss };
  } catch {
    return null; // gone meanwhile
  }
}
const allProcs = () => readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(proc).filter(Boolean);
const isWorkerd = (p) => /workerd$/.test(p.cmd[0] ?? "");

/**
 * The runtime serving `port`: the workerd listening on it (wrangler's proxy, or Miniflare's only
 * workerd), its sibling workerd processes (the user Worker behind the proxy) and their parent
 * node process (wrangler, or whatever runs Miniflare). Labels stay stable across samples.
 */
export function runtimeProcesses(port) {
  const ps = allProcs();
  const front = ps.find((p) => isWorkerd(p) && p.cmd.some((a) => a.endsWith(`=entry=127.0.0.1:${port}`) || a.endsWith(`=entry=localhost:${port}`)));
  if (!front) return [];
  const workerds = ps.filter((p) => isWorkerd(p) && p.ppid === front.ppid);
  const parent = ps.find((p) => p.pid === front.ppid);
  const out = workerds.map((p) => ({ label: p === front && workerds.length > 1 ? "workerd (proxy)" : workerds.length > 1 ? "workerd (worker)" : "workerd", p }));
  if (parent) out.push({ label: /wrangler/.test(parent.cmd.join(" ")) ? "node (wrangler)" : "node (runtime host)", p: parent });
  return out;
}

/** Bytes under a directory: the runtime's persisted state (SQLite files and their WAL). */
export function dirBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const f = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(f) : statSync(f).size;
  }
  return n;
}

/** TCP ports a process listens on, from its socket descriptors and /proc/net/tcp{,6}. */
function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c[3] === "0A" && inodes.has(c[9])) ports.add(parseInt(c[1].split(":").pop(), 16));
    }
  }
  return [...ports];
}

/** The inspector targets (one per isolate) of a workerd process; none when it has no inspector. */
async function inspectorTargets(pid) {
  const out = [];
  for (const port of listeningPorts(pid)) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(1000) })).json();
      for (const t of list) if (t.webSocketDebuggerUrl) out.push({ id: t.id, url: t.webSocketDebuggerUrl.replace("localhost", "127.0.0.1") });
    } catch {
      // not an inspector (the entry socket, the debug port)
    }
  }
  return out;
}

/** One full collection in one isolate; false when the isolate did not answer (e.g. a debugger holds it). */
async function collect(WebSocket, url, timeoutMs) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { maxPayload: 1 << 30 });
    const done = (ok) => {
      clearTimeout(timer);
      ws.terminate();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    ws.on("open", () => {
      ws.send(JSON.stringify({ id: 1, method: "HeapProfiler.enable" }));
      ws.send(JSON.stringify({ id: 2, method: "HeapProfiler.takeHeapSnapshot", params: { reportProgress: false } }));
    });
    ws.on("message", (d) => {
      if (JSON.parse(String(d)).id === 2) done(true);
    });
    ws.on("error", () => done(false));
  });
}

/**
 * Collects garbage in every isolate of the given workerd processes it can reach.
 *
 * @example
 * const { collected, missed, reached } = await collectGarbage([workerdPid]);
 */
export async function collectGarbage(pids, timeoutMs = 20_000) {
  const { default: WebSocket } = await import("ws");
  let collected = 0;
  const missed = [];
  const reached = new Set();
  for (const pid of pids) {
    for (const t of await inspectorTargets(pid)) {
      if (await collect(WebSocket, t.url, timeoutMs)) {
        collected++;
        reached.add(pid);
      } else missed.push(t.id);
    }
  }
  return { collected, missed, reached };
}
